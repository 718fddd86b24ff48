// resolve_password: password_file (private files only), password_env, password_credential.
#include "agent/config/config.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dmvlog::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dmvlog-password-test-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class EnvGuard {
public:
    explicit EnvGuard(const char* name) : name_(name) {
        if (const char* v = std::getenv(name)) old_ = v;
    }
    ~EnvGuard() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

std::filesystem::path write_secret(const std::filesystem::path& p, const std::string& text, mode_t mode) {
    {
        std::ofstream out(p, std::ios::binary);
        out << text;
    }
    if (chmod(p.c_str(), mode) != 0) throw std::runtime_error("chmod failed");
    return p;
}

Instance instance_with_file(const std::string& path) {
    Instance inst;
    inst.name = "prod";
    inst.line = 4;
    inst.password_file = path;
    return inst;
}

std::string error_of(const Instance& inst, const std::string& config_file = "/etc/dmvlog/dmvlog.toml") {
    try {
        resolve_password(inst, config_file);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(Password, NoneConfiguredIsEmpty) {
    Instance inst;
    inst.name = "a";
    EXPECT_EQ(resolve_password(inst, "t.toml"), "");
}

TEST(Password, PrivateFileIsReadAndOneTrailingNewlineStripped) {
    TempDir dir;
    const auto p = write_secret(dir.path() / "pw", "s3cret\n", 0600);
    EXPECT_EQ(resolve_password(instance_with_file(p.string()), "t.toml"), "s3cret");
    write_secret(p, "s3cret\r\n", 0600);
    EXPECT_EQ(resolve_password(instance_with_file(p.string()), "t.toml"), "s3cret");
    write_secret(p, "s3cret\n\n", 0600);
    EXPECT_EQ(resolve_password(instance_with_file(p.string()), "t.toml"), "s3cret\n");
    write_secret(p, " with spaces ", 0400);
    EXPECT_EQ(resolve_password(instance_with_file(p.string()), "t.toml"), " with spaces ");
}

TEST(Password, FileReadableByOthersIsRefusedWithTheFix) {
    TempDir dir;
    const auto p = write_secret(dir.path() / "pw", "s3cret\n", 0644);
    const std::string e = error_of(instance_with_file(p.string()));
    EXPECT_EQ(e, "/etc/dmvlog/dmvlog.toml:4: password_file: instance 'prod': password file " + p.string() +
                     " is readable by group or others (mode 0644); make it private to the agent's user: chmod 600 " +
                     p.string());
    EXPECT_THAT(e, Not(HasSubstr("s3cret")));
    write_secret(p, "s3cret\n", 0640);
    EXPECT_THAT(error_of(instance_with_file(p.string())), HasSubstr("is readable by group or others (mode 0640)"));
    write_secret(p, "s3cret\n", 0620);
    EXPECT_THAT(error_of(instance_with_file(p.string())), HasSubstr("is writable by group or others (mode 0620)"));
}

TEST(Password, MissingEmptyOrOddFiles) {
    TempDir dir;
    const auto missing = dir.path() / "missing";
    EXPECT_EQ(error_of(instance_with_file(missing.string())),
              "/etc/dmvlog/dmvlog.toml:4: password_file: instance 'prod': cannot read password file " + missing.string() +
                  ": No such file or directory");
    const auto empty = write_secret(dir.path() / "empty", "\n", 0600);
    EXPECT_THAT(error_of(instance_with_file(empty.string())), HasSubstr("password file " + empty.string() + " is empty"));
    EXPECT_THAT(error_of(instance_with_file(dir.path().string())), HasSubstr("is not a regular file"));
}

TEST(Password, RelativeFileIsRelativeToTheConfigFile) {
    TempDir dir;
    write_secret(dir.path() / "pw", "rel\n", 0600);
    EXPECT_EQ(resolve_password(instance_with_file("pw"), (dir.path() / "dmvlog.toml").string()), "rel");
}

TEST(Password, Environment) {
    EnvGuard guard("DMVLOG_TEST_PASSWORD");
    Instance inst;
    inst.name = "prod";
    inst.line = 2;
    inst.password_env = "DMVLOG_TEST_PASSWORD";
    unsetenv("DMVLOG_TEST_PASSWORD");
    EXPECT_EQ(error_of(inst, "t.toml"),
              "t.toml:2: password_env: instance 'prod': environment variable DMVLOG_TEST_PASSWORD is not set");
    setenv("DMVLOG_TEST_PASSWORD", "", 1);
    EXPECT_THAT(error_of(inst, "t.toml"), HasSubstr("environment variable DMVLOG_TEST_PASSWORD is empty"));
    setenv("DMVLOG_TEST_PASSWORD", "from-env\n", 1);
    EXPECT_EQ(resolve_password(inst, "t.toml"), "from-env\n");  // taken as is
}

TEST(Password, SystemdCredential) {
    EnvGuard guard("CREDENTIALS_DIRECTORY");
    TempDir dir;
    Instance inst;
    inst.name = "prod";
    inst.line = 2;
    inst.password_credential = "prod-pw";
    unsetenv("CREDENTIALS_DIRECTORY");
    EXPECT_EQ(error_of(inst, "t.toml"),
              "t.toml:2: password_credential: instance 'prod': credential 'prod-pw' needs $CREDENTIALS_DIRECTORY, "
              "which is not set; systemd sets it for a service with LoadCredential= or LoadCredentialEncrypted= "
              "(otherwise use password_file)");
    setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
    EXPECT_THAT(error_of(inst, "t.toml"),
                HasSubstr("cannot read credential file " + (dir.path() / "prod-pw").string() + ": No such file or directory"));
    // systemd owns the credential directory's permissions; the file's own mode is not checked.
    write_secret(dir.path() / "prod-pw", "cred-secret\n", 0444);
    EXPECT_EQ(resolve_password(inst, "t.toml"), "cred-secret");
}

}  // namespace
}  // namespace dmvlog::config
