// What a reload changes, in a few words per item, for the log ("instance added: sql2", "collector
// requests_5s: enabled", "store: sqlite /a.db -> sqlite /b.db"). Passwords are never shown.
#pragma once

#include <string>
#include <vector>

#include "agent/collect/declaration.h"
#include "agent/config/config.h"

namespace dmvlog::service {

// One line per change, in a stable order (instances, store, agent, logging, collectors); empty when the
// configuration and the declarations with their overrides are the same as far as the agent is concerned.
std::vector<std::string> describe_changes(const config::Config& before, const std::vector<collect::CollectorDecl>& decls_before,
                                          const config::Config& after, const std::vector<collect::CollectorDecl>& decls_after);

}  // namespace dmvlog::service
