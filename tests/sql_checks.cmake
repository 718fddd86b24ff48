# Offline checks of the T-SQL dmvlog sends to SQL Server (docs/sql-checks.md):
#   sql.grammar            every batch the agent assembles parses with the T-SQL grammar (antlr4ts-sql)
#   sql.catalog            every column exists, with the declared type, in the DMV catalog on every claimed version
#   sql.catalog.good       a fixture using every supported construct passes (no false positives)
#   sql.broken.<name>      each fixture under tests/catalog/broken fails with the messages in its expect.txt
# Needs Node.js and tests/tsql/node_modules (dev/setup runs `cd tests/tsql && npm ci`); no network at test time.
# Include from tests/CMakeLists.txt:  include(${CMAKE_CURRENT_SOURCE_DIR}/sql_checks.cmake)

set(DMVLOG_SQLCHECK ${CMAKE_CURRENT_LIST_DIR}/tsql/check_sql.js)
find_program(DMVLOG_NODE NAMES node nodejs)

if(NOT DMVLOG_NODE)
  # Fail loudly rather than skip: a missing checker must not look like a passing one.
  message(WARNING "node not found: sql.grammar and sql.catalog will fail (run dev/setup)")
  add_test(NAME sql.grammar COMMAND ${CMAKE_COMMAND} -E false)
  add_test(NAME sql.catalog COMMAND ${CMAKE_COMMAND} -E false)
  set_tests_properties(sql.grammar sql.catalog PROPERTIES LABELS sql)
  return()
endif()

add_test(NAME sql.grammar COMMAND ${DMVLOG_NODE} ${DMVLOG_SQLCHECK} --grammar WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME sql.catalog COMMAND ${DMVLOG_NODE} ${DMVLOG_SQLCHECK} --catalog WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME sql.catalog.good
         COMMAND ${DMVLOG_NODE} ${DMVLOG_SQLCHECK} --root ${CMAKE_CURRENT_LIST_DIR}/catalog/good
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(sql.grammar sql.catalog sql.catalog.good PROPERTIES LABELS sql TIMEOUT 60)

# Negative tests: the checker must fail on each broken fixture AND print every line of its expect.txt
# (--expect inverts the exit status only when both hold).
file(GLOB _dmvlog_broken LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/catalog/broken/*)
foreach(_dir IN LISTS _dmvlog_broken)
  if(IS_DIRECTORY ${_dir} AND EXISTS ${_dir}/expect.txt)
    get_filename_component(_name ${_dir} NAME)
    add_test(NAME sql.broken.${_name}
             COMMAND ${DMVLOG_NODE} ${DMVLOG_SQLCHECK} --root ${_dir} --expect ${_dir}/expect.txt
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(sql.broken.${_name} PROPERTIES LABELS sql TIMEOUT 60)
  endif()
endforeach()

# Every statement the SQL Server store sends and the analysis SQL as it asks a SQL Server store, as the
# binary prints them (no SQL Server runs here): the schema files, the collector tables' DDL, the data
# statements and the translated questions.
add_test(NAME sql.store_statements
         COMMAND sh -c "\"$<TARGET_FILE:dmvlog>\" schema print --store sqlserver: --statements > store_statements.sql && \"${DMVLOG_NODE}\" \"${DMVLOG_SQLCHECK}\" --file store_statements.sql"
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(sql.store_statements PROPERTIES LABELS sql TIMEOUT 60)
