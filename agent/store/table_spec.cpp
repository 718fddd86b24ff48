#include "agent/store/store.h"

namespace dmvlog::store {

TableSpec table_spec(const collect::CollectorDecl& decl) {
    TableSpec t;
    t.name = decl.table;
    t.collector = decl.name;
    for (const auto& c : decl.columns) {
        if (c.text) t.columns.push_back({c.name + "_hash", collect::StorageClass::integer});
        else t.columns.push_back({c.name, c.storage()});
    }
    for (const auto& d : decl.derived) t.columns.push_back({d.name + "_hash", collect::StorageClass::integer});
    if (decl.scope == "database") {
        t.columns.push_back({"database_id", collect::StorageClass::integer});
        t.columns.push_back({"database_name", collect::StorageClass::text});
    }
    return t;
}

}  // namespace dmvlog::store
