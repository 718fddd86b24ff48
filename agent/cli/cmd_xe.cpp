// dmvlog xe parse|setup: reading blocked-process and deadlock event XML; setting up dmvlog's event session.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "agent/blocking/xe_setup.h"
#include "agent/cli/cli.h"
#include "agent/cli/common.h"
#include "agent/collect/source.h"
#include "agent/odbc/connection.h"
#include "agent/xe/envelope.h"
#include "agent/xe/json.h"

namespace dmvlog::cli {

namespace {

constexpr const char* kHelp =
    "Usage: dmvlog xe setup [--apply] [--set-threshold N] [--config FILE]\n"
    "       dmvlog xe parse FILE... [--format json|table]\n\n"
    "Sets up dmvlog's extended-event session, or parses blocked-process and deadlock XML.\n";

constexpr const char* kParseHelp =
    "Usage: dmvlog xe parse FILE... [--format json|table]\n\n"
    "Reads blocked_process_report and xml_deadlock_report events from each FILE (- for standard input):\n"
    "bare <blocked-process-report> or <deadlock> documents, <event> documents as read from an event_file\n"
    "(sys.fn_xe_file_target_read_file's event_data), <RingBufferTarget> documents, or any number of these one\n"
    "after another. Other events are passed over.\n\n"
    "  --format json   one JSON object per line per event (the default; see docs/xe.md)\n"
    "  --format table  one readable line per event, then a summary line\n\n"
    "Exit status: 0 every event parsed; 1 some event was malformed or truncated (all are still printed);\n"
    "2 bad arguments or a file that cannot be read.\n";

constexpr const char* kSetupHelp =
    "Usage: dmvlog xe setup [--apply] [--set-threshold N] [--config FILE]\n\n"
    "Prints the T-SQL that creates and starts dmvlog's event session ([xe] session, path, max_file_size_mb,\n"
    "max_rollover_files of the configuration): blocked_process_report and xml_deadlock_report to an event_file.\n"
    "Nothing is changed when the session exists already (it is started if it is not running).\n\n"
    "  --apply            run it on every configured instance (needs ALTER ANY EVENT SESSION)\n"
    "  --set-threshold N  also set 'blocked process threshold (s)' to N (0 to 86400; needs ALTER SETTINGS).\n"
    "                     Without it the threshold is never changed; blocked-process reports need it above 0.\n";

int setup_usage_error(const std::string& message) {
    std::fprintf(stderr, "dmvlog xe setup: %s\n\n%s", message.c_str(), kSetupHelp);
    return exit_usage;
}

int cmd_xe_setup(const Args& args) {
    bool apply = false;
    std::optional<int> threshold;
    std::optional<std::string> config_arg;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i];
        std::optional<std::string> value;
        if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = a.substr(eq + 1);
            a = a.substr(0, eq);
        }
        auto take = [&](const char* what) -> std::optional<std::string> {
            if (value) return value;
            if (i + 1 >= args.size()) return std::nullopt;
            (void)what;
            return args[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kSetupHelp, stdout);
            return exit_ok;
        } else if (a == "--apply" && !value) {
            apply = true;
        } else if (a == "--set-threshold") {
            auto v = take("--set-threshold");
            if (!v) return setup_usage_error("--set-threshold needs a number of seconds");
            try {
                std::size_t used = 0;
                long n = std::stol(*v, &used);
                if (used != v->size() || n < 0 || n > 86400) throw std::out_of_range("range");
                threshold = static_cast<int>(n);
            } catch (const std::exception&) {
                return setup_usage_error("--set-threshold must be a whole number of seconds, 0 to 86400 (got '" + *v + "')");
            }
        } else if (a == "--config") {
            auto v = take("--config");
            if (!v) return setup_usage_error("--config needs a file");
            config_arg = *v;
        } else {
            return setup_usage_error("unknown argument '" + args[i] + "'");
        }
    }
    auto loaded = load(config_arg, false);
    if (!loaded) return exit_usage;
    const auto& xe = loaded->cfg.xe;
    const std::string session_sql = blocking::session_setup_sql(xe);
    const std::string threshold_text = threshold ? blocking::threshold_sql(*threshold) : std::string();
    std::printf("-- dmvlog's event session %s: blocked_process_report and xml_deadlock_report to %s\n%s",
                xe.session.c_str(), xe.path.c_str(), session_sql.c_str());
    if (threshold)
        std::printf("-- 'blocked process threshold (s)' = %d\n%s", *threshold, threshold_text.c_str());
    else
        std::printf("-- 'blocked process threshold (s)' is left as it is (--set-threshold N changes it; reports need it above 0)\n");
    std::fflush(stdout);
    if (!apply) return exit_ok;

    int failures = 0;
    odbc::Environment env;
    for (const auto& inst : loaded->cfg.instances) {
        try {
            const std::string password = config::resolve_password(inst, loaded->cfg.source);
            odbc::Connection conn(env, "instance " + inst.name);
            conn.connect(collect::secured_connection(inst).connection_string, inst.user, password, inst.login_timeout);
            conn.execute(session_sql, std::chrono::seconds(60), "xe setup");
            if (threshold) conn.execute(threshold_text, std::chrono::seconds(60), "xe setup threshold");
            std::printf("instance %s: session %s created or present, and running%s\n", inst.name.c_str(),
                        xe.session.c_str(),
                        threshold ? (", blocked process threshold " + std::to_string(*threshold) + " s").c_str() : "");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "instance %s: xe setup failed: %s\n", inst.name.c_str(), e.what());
            ++failures;
        }
    }
    return failures ? exit_runtime : exit_ok;
}

int usage_error(const std::string& message) {
    std::fprintf(stderr, "dmvlog xe parse: %s\n\n%s", message.c_str(), kParseHelp);
    return exit_usage;
}

int cmd_xe_parse(const Args& args) {
    std::string format = "json";
    std::vector<std::string> files;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kParseHelp, stdout);
            return exit_ok;
        }
        if (a == "--format" || a.rfind("--format=", 0) == 0) {
            if (a == "--format") {
                if (i + 1 >= args.size()) return usage_error("--format needs a value (json or table)");
                format = args[++i];
            } else {
                format = a.substr(9);
            }
            if (format != "json" && format != "table")
                return usage_error("unknown format '" + format + "' (json or table)");
            continue;
        }
        if (a == "--") {
            files.insert(files.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (a.size() > 1 && a[0] == '-') return usage_error("unknown option '" + a + "'");
        files.push_back(a);
    }
    if (files.empty()) return usage_error("name at least one FILE (or - for standard input)");

    // every file must be readable before anything is printed
    for (const auto& f : files) {
        if (f == "-") continue;
        std::error_code ec;
        if (std::filesystem::is_directory(f, ec)) {
            std::fprintf(stderr, "dmvlog xe parse: cannot read '%s': it is a directory\n", f.c_str());
            return exit_usage;
        }
        std::ifstream probe(f, std::ios::binary);
        if (!probe) {
            std::fprintf(stderr, "dmvlog xe parse: cannot read '%s': %s\n", f.c_str(), std::strerror(errno));
            return exit_usage;
        }
    }

    const bool table = format == "table";
    std::uint64_t events = 0, errors = 0, skipped = 0, bprs = 0, deadlocks = 0;
    bool read_failed = false;
    std::string line;
    for (const auto& f : files) {
        std::ifstream file;
        std::istream* in = &std::cin;
        if (f != "-") {
            file.open(f, std::ios::binary);
            if (!file) {
                std::fprintf(stderr, "dmvlog xe parse: cannot read '%s': %s\n", f.c_str(), std::strerror(errno));
                read_failed = true;
                continue;
            }
            in = &file;
        }
        if (table && files.size() > 1) std::printf("== %s\n", f == "-" ? "(standard input)" : f.c_str());
        xe::EventReader reader(*in);
        xe::Event ev;
        while (reader.next(ev)) {
            line = table ? xe::to_table_line(ev) : xe::to_json_line(ev);
            line.push_back('\n');
            std::fwrite(line.data(), 1, line.size(), stdout);
            if (ev.type == xe::EventType::blocked_process_report) ++bprs;
            if (ev.type == xe::EventType::xml_deadlock_report) ++deadlocks;
        }
        if (in->bad()) {
            std::fprintf(stderr, "dmvlog xe parse: error reading '%s'\n", f.c_str());
            read_failed = true;
        }
        events += reader.stats().events;
        errors += reader.stats().parse_errors;
        skipped += reader.stats().skipped;
    }
    if (table) {
        std::printf("%llu event(s): %llu blocked process report(s), %llu deadlock(s); %llu with parse errors; "
                    "%llu other event(s) passed over\n",
                    static_cast<unsigned long long>(events), static_cast<unsigned long long>(bprs),
                    static_cast<unsigned long long>(deadlocks), static_cast<unsigned long long>(errors),
                    static_cast<unsigned long long>(skipped));
    } else if (errors) {
        std::fprintf(stderr, "dmvlog xe parse: %llu of %llu event(s) had parse errors\n",
                     static_cast<unsigned long long>(errors), static_cast<unsigned long long>(events));
    }
    std::fflush(stdout);
    if (read_failed) return exit_usage;
    return errors ? exit_runtime : exit_ok;
}

}  // namespace

int cmd_xe(const Args& args) {
    if (args.empty()) {
        std::fputs(kHelp, stderr);
        return exit_usage;
    }
    const std::string& action = args[0];
    if (action == "--help" || action == "-h" || action == "help") {
        std::fputs(kHelp, stdout);
        return exit_ok;
    }
    Args rest(args.begin() + 1, args.end());
    if (action == "parse") return cmd_xe_parse(rest);
    if (action == "setup") return cmd_xe_setup(rest);
    std::fprintf(stderr, "dmvlog xe: unknown action '%s' (setup or parse)\n\n%s", action.c_str(), kHelp);
    return exit_usage;
}

}  // namespace dmvlog::cli
