// Security end to end (docs/operations.md, "Security"): encrypted connections by default with the server's
// certificate checked, loud warnings when that is turned off, a clear refusal of a certificate from another CA,
// and passwords that appear nowhere: not in output, logs, the store, nor the process's command line.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/agent_process.h"
#include "support/sim_process.h"

namespace dmvlog::test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every file under dir (the SQLite store and its -wal / -shm, the spool, ...) as one string.
std::string all_files(const std::filesystem::path& dir) {
    std::string out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file()) out += read_file(e.path().string());
    return out;
}

// The "encryption=..." of each LOGIN line the simulator logged for dmvlog's connections.
std::vector<std::string> login_encryption(const SimProcess& sim) {
    std::vector<std::string> out;
    std::istringstream log(sim.log_text());
    for (std::string line; std::getline(log, line);) {
        if (line.find("| LOGIN ") == std::string::npos || line.find("app='dmvlog'") == std::string::npos) continue;
        auto at = line.find("encryption=");
        if (at != std::string::npos) out.push_back(line.substr(at + 11, line.find(' ', at) - at - 11));
    }
    return out;
}

SimOptions scenario_with_login(const TempDir& dir, const std::string& password) {
    auto scenario = dir.write("secret.toml", R"(name = "secret"
description = "A login with a recognisable password."
[auth]
logins = [ { name = "dmvlog", password = ")" + password + R"(" } ]
)");
    SimOptions o;
    o.args = {"--scenario", scenario, "--seed", "3"};
    return o;
}

TEST(Security, ConnectionsAreEncryptedAndCheckedByDefault) {
    TempDir dir;
    SimProcess sim(scenario_with_login(dir, "dmvlog"));
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"));
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 0) << r.output << sim.log_text();
    EXPECT_NE(r.output.find("encryption: encrypted (FreeTDS, encryption = require), certificate checked against CA file " +
                            test_ca_file()),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
    auto c = run_dmvlog({"collect", "--once", "--config", cfg, "--only", "wait_stats"});
    EXPECT_EQ(c.exit_code, 0) << c.output;
    const auto logins = login_encryption(sim);
    ASSERT_GE(logins.size(), 2u) << sim.log_text();
    for (const auto& e : logins) EXPECT_EQ(e, "full") << sim.log_text();
}

TEST(Security, TurningEncryptionOrChecksOffIsSaidLoudly) {
    TempDir dir;
    SimProcess sim(scenario_with_login(dir, "dmvlog"));
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"));
    // the instance's keys go before [store]
    auto text = read_file(cfg);
    auto with = [&](const std::string& keys) {
        auto t = text;
        t.insert(t.find("[store]"), keys + "\n");
        return dir.write("dmvlog.toml", t);
    };
    auto r = run_dmvlog({"check", "--config", with("encrypt = false")});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("WARNING: instance sim: ENCRYPTION IS OFF (encrypt = false)"), std::string::npos) << r.output;
    EXPECT_EQ(login_encryption(sim).back(), "none") << sim.log_text();

    r = run_dmvlog({"check", "--config", with("trust_server_certificate = true")});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("WARNING: instance sim: THE SERVER'S CERTIFICATE IS NOT CHECKED"), std::string::npos)
        << r.output;
    EXPECT_EQ(login_encryption(sim).back(), "full") << sim.log_text();

    // and at the start of collect / run, in the log
    auto c = run_dmvlog({"collect", "--once", "--config", with("encrypt = false"), "--only", "wait_stats"});
    EXPECT_NE(c.output.find("ENCRYPTION IS OFF"), std::string::npos) << c.output;
}

TEST(Security, ACertificateFromAnotherCaIsRefusedWithAClearMessage) {
    TempDir dir;
    SimProcess sim(scenario_with_login(dir, "dmvlog"));
    // a CA that did not sign the simulator's certificate
    const std::string other = dir.file("other");
    const std::string cmd = "/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); "
                            "from sim.tds.tls import make_certificates; make_certificates(sys.argv[2], \"other CA\")' '" +
                            std::filesystem::path(sim_path()).parent_path().string() + "' '" + other + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto text = read_file(agent_config(dir, sim.port(), dir.file("dmvlog.db")));
    const auto at = text.find(test_ca_file());
    ASSERT_NE(at, std::string::npos);
    text.replace(at, test_ca_file().size(), other + "/ca.pem");
    auto cfg = dir.write("dmvlog.toml", text);
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("TLS handshake probably failed"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("the CA in " + other + "/ca.pem"), std::string::npos) << r.output;
    EXPECT_NE(sim.log_text().find("TLS handshake failed"), std::string::npos) << sim.log_text();
    EXPECT_TRUE(login_encryption(sim).empty()) << "no login got through: " << sim.log_text();
}

TEST(Security, AServerWithoutTlsIsRefusedUnlessEncryptionIsTurnedOff) {
    TempDir dir;
    SimOptions o = scenario_with_login(dir, "dmvlog");
    o.tls = false;
    SimProcess sim(o);
    auto cfg = agent_config(dir, sim.port(), dir.file("dmvlog.db"));
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(sim.log_text().find("client requires encryption, which is not supported"), std::string::npos)
        << sim.log_text();
    EXPECT_TRUE(login_encryption(sim).empty()) << sim.log_text();
}

TEST(Security, AWorldReadableConfigWithASecretIsRefused) {
    TempDir dir;
    auto cfg = agent_config(dir, 1433, dir.file("dmvlog.db"), "[digest]\npost = \"https://hooks.example/T0KEN-abc\"\n");
    ::chmod(cfg.c_str(), 0644);
    auto r = run_dmvlog({"check", "--config", cfg});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(cfg), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("mode 0644"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("digest.post"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("T0KEN-abc"), std::string::npos) << r.output;
}

// The password text appears in no output, log, store file or command line: with the right password (check,
// collect --once, run) and with a wrong one (a login failure in each).
TEST(Security, PasswordsAppearNowhere) {
    const std::string right = "Canary-Right-5e1f9a";
    const std::string wrong = "Canary-Wrong-c03b7d";
    TempDir dir;
    SimOptions o = scenario_with_login(dir, right);
    o.args.insert(o.args.end(), {"--speed", "20"});
    SimProcess sim(o);
    for (const auto& [password, ok] : {std::pair{right, true}, std::pair{wrong, false}}) {
        SCOPED_TRACE(ok ? "right password" : "wrong password");
        TempDir run_dir;
        auto cfg = agent_config(run_dir, sim.port(), run_dir.file("store/dmvlog.db"), "", password);
        std::string seen;

        auto check = run_dmvlog({"check", "--config", cfg});
        EXPECT_EQ(check.exit_code, ok ? 0 : 1) << check.output;
        if (!ok) {
            EXPECT_NE(check.output.find("login failed for user 'dmvlog'"), std::string::npos) << check.output;
        }
        seen += check.output;

        auto once = run_dmvlog({"collect", "--once", "--config", cfg, "--only", "wait_stats,requests_5s"});
        EXPECT_EQ(once.exit_code, ok ? 0 : 1) << once.output;
        seen += once.output;

        AgentProcess agent({"run", "--config", cfg, "--log-level", "debug", "--time-scale", "20"});
        std::this_thread::sleep_for(3s);
        const std::string cmdline = read_file("/proc/" + std::to_string(agent.pid()) + "/cmdline");
        EXPECT_FALSE(cmdline.empty()) << "the agent is running";
        EXPECT_EQ(cmdline.find(password), std::string::npos) << "password in /proc/<pid>/cmdline";
        const std::string environ_text = read_file("/proc/" + std::to_string(agent.pid()) + "/environ");
        EXPECT_EQ(environ_text.find(password), std::string::npos) << "password in /proc/<pid>/environ";
        agent.stop();
        seen += agent.output();
        if (!ok) {
            EXPECT_NE(agent.output().find("Login failed"), std::string::npos) << agent.output();
        } else {
            EXPECT_GT(StoreReader(run_dir.file("store/dmvlog.db")).scalar("SELECT count(*) FROM snapshots"), 0)
                << agent.output();
        }

        EXPECT_EQ(seen.find(password), std::string::npos) << "password in the output or log:\n" << seen;
        // every file the agent wrote: the store (and its journal), the spool, the state folder
        const std::string files = all_files(run_dir.path() / "store");
        if (ok) {
            EXPECT_FALSE(files.empty()) << "the store was written";
        }
        EXPECT_EQ(files.find(password), std::string::npos) << "password in a file the agent wrote";
    }
    // the simulator saw both, so the test did reach the login
    EXPECT_NE(sim.log_text().find("login refused"), std::string::npos) << sim.log_text();
}

}  // namespace
}  // namespace dmvlog::test
