#include "agent/store/store.h"

namespace dmvlog::store {

TableSpec table_spec(const collect::CollectorDecl& decl) {
    TableSpec t;
    t.name = decl.table;
    t.collector = decl.name;
    for (const auto& c : decl.columns) {
        if (c.text) t.columns.push_back({c.name + "_hash", collect::StorageClass::integer});
        else {
            const auto storage = c.storage();
            const bool small_binary = c.type == collect::ColumnType::binary && c.length > 0 && c.length <= 8;
            const bool dictionary = storage == collect::StorageClass::text ||
                                    (storage == collect::StorageClass::blob && !small_binary);
            t.columns.push_back({c.name, storage, dictionary});
        }
    }
    for (const auto& d : decl.derived) t.columns.push_back({d.name + "_hash", collect::StorageClass::integer});
    if (decl.scope == "database") {
        t.columns.push_back({"database_id", collect::StorageClass::integer});
        t.columns.push_back({"database_name", collect::StorageClass::text, true});
    }
    return t;
}

}  // namespace dmvlog::store
