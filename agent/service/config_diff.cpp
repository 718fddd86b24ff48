#include "agent/service/config_diff.h"

#include <map>

namespace dmvlog::service {

namespace {

std::string auth_of(const config::Instance& i) {
    if (i.password_file) return "password_file " + *i.password_file;
    if (i.password_env) return "password_env " + *i.password_env;
    if (i.password_credential) return "password_credential " + *i.password_credential;
    return "none";
}

std::string store_of(const config::Store& s) {
    return s.kind == "postgres" ? "postgres " + s.conninfo : s.kind + " " + s.path;
}

void changed(std::vector<std::string>& out, const std::string& what, const std::string& a, const std::string& b) {
    if (a != b) out.push_back(what + ": " + a + " -> " + b);
}

}  // namespace

std::vector<std::string> describe_changes(const config::Config& before, const std::vector<collect::CollectorDecl>& decls_before,
                                          const config::Config& after, const std::vector<collect::CollectorDecl>& decls_after) {
    std::vector<std::string> out;
    std::map<std::string, const config::Instance*> old_instances;
    for (const auto& i : before.instances) old_instances[i.name] = &i;
    for (const auto& i : after.instances) {
        auto it = old_instances.find(i.name);
        if (it == old_instances.end()) {
            out.push_back("instance added: " + i.name);
            continue;
        }
        const config::Instance& o = *it->second;
        if (o.connection != i.connection) out.push_back("instance " + i.name + ": connection changed");
        changed(out, "instance " + i.name + ": user", o.user, i.user);
        changed(out, "instance " + i.name + ": password from", auth_of(o), auth_of(i));
        if (o.login_timeout != i.login_timeout || o.lock_timeout != i.lock_timeout)
            out.push_back("instance " + i.name + ": timeouts changed");
        if (o.include_databases != i.include_databases || o.exclude_databases != i.exclude_databases)
            out.push_back("instance " + i.name + ": databases changed");
        old_instances.erase(it);
    }
    for (const auto& [name, unused] : old_instances) out.push_back("instance removed: " + name);

    changed(out, "store", store_of(before.store), store_of(after.store));
    changed(out, "agent.time_zone", before.agent.time_zone, after.agent.time_zone);
    changed(out, "agent.splay", config::format_duration(before.agent.splay), config::format_duration(after.agent.splay));
    changed(out, "agent.stop_timeout", config::format_duration(before.agent.stop_timeout),
            config::format_duration(after.agent.stop_timeout));
    changed(out, "agent.state_dir", before.agent.state_dir, after.agent.state_dir);
    changed(out, "logging.level", before.logging.level, after.logging.level);

    std::map<std::string, const collect::CollectorDecl*> old_decls;
    for (const auto& d : decls_before) old_decls[d.name] = &d;
    for (const auto& d : decls_after) {
        auto it = old_decls.find(d.name);
        if (it == old_decls.end()) {
            if (d.enabled) out.push_back("collector " + d.name + ": enabled");
            continue;
        }
        const collect::CollectorDecl& o = *it->second;
        if (o.enabled != d.enabled) {
            out.push_back("collector " + d.name + (d.enabled ? ": enabled" : ": disabled"));
            continue;
        }
        if (!d.enabled) continue;
        changed(out, "collector " + d.name + ": interval", config::format_duration(o.interval), config::format_duration(d.interval));
        changed(out, "collector " + d.name + ": timeout", config::format_duration(o.timeout), config::format_duration(d.timeout));
        changed(out, "collector " + d.name + ": retention", config::format_duration(o.retention), config::format_duration(d.retention));
        if (o.params != d.params) out.push_back("collector " + d.name + ": parameters changed");
    }
    return out;
}

}  // namespace dmvlog::service
