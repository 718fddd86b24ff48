#include "agent/odbc/error.h"

#include <algorithm>
#include <cctype>

namespace dmvlog::odbc {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_secret_key(std::string_view key) {
    // trim spaces around the key
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    return iequals(key, "PWD") || iequals(key, "Password");
}

std::string join_context(const std::string& operation, const std::string& context,
                         const std::vector<Diagnostic>& records) {
    std::string out;
    if (!context.empty()) {
        out += context;
        out += ": ";
    }
    out += operation;
    out += " failed: ";
    out += format_diagnostics(records);
    return out;
}

}  // namespace

std::string format_diagnostic(const Diagnostic& d) {
    std::string out = "[";
    out += d.sqlstate.empty() ? "-----" : d.sqlstate;
    out += '/';
    out += std::to_string(d.native_error);
    out += "] ";
    out += d.message;
    return out;
}

std::string format_diagnostics(const std::vector<Diagnostic>& records) {
    if (records.empty()) return "(no diagnostic records)";
    std::string out;
    for (const auto& d : records) {
        if (!out.empty()) out += "; ";
        out += format_diagnostic(d);
    }
    return out;
}

std::string scrub_secrets(std::string_view text) {
    // Walk the text looking for "<key>=" where key is PWD or Password, bounded on the left by the start of
    // the text or a character that cannot be part of a key (';', space, quote, bracket...).
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t eq = text.find('=', i);
        if (eq == std::string_view::npos) break;
        // the key is the run of letters just before '=' (spaces allowed between key and '=')
        std::size_t k = eq;
        while (k > i && text[k - 1] == ' ') --k;
        std::size_t start = k;
        while (start > i && std::isalpha(static_cast<unsigned char>(text[start - 1]))) --start;
        const bool bounded = start == 0 || !std::isalnum(static_cast<unsigned char>(text[start - 1]));
        if (start < k && bounded && is_secret_key(text.substr(start, k - start))) {
            out.append(text.substr(i, eq + 1 - i));
            std::size_t v = eq + 1;
            while (v < text.size() && text[v] == ' ') ++v;
            if (v < text.size() && text[v] == '{') {
                // braced value: ends at a '}' not followed by another '}' ("}}" is an escaped brace)
                std::size_t e = v + 1;
                while (e < text.size()) {
                    if (text[e] == '}') {
                        if (e + 1 < text.size() && text[e + 1] == '}') {
                            e += 2;
                            continue;
                        }
                        ++e;
                        break;
                    }
                    ++e;
                }
                v = e;
            } else {
                while (v < text.size() && text[v] != ';') ++v;
            }
            out += "***";
            i = v;
        } else {
            out.append(text.substr(i, eq + 1 - i));
            i = eq + 1;
        }
    }
    out.append(text.substr(i));
    return out;
}

std::string scrub_secrets(std::string_view text, std::string_view secret) {
    if (secret.size() < 4) return scrub_secrets(text);
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    for (;;) {
        const std::size_t at = text.find(secret, i);
        if (at == std::string_view::npos) break;
        out.append(text.substr(i, at - i));
        out += "***";
        i = at + secret.size();
    }
    out.append(text.substr(i));
    return scrub_secrets(out);
}

Error::Parts Error::scrub(std::string operation, std::string context, std::vector<Diagnostic> records,
                          std::string_view secret) {
    for (auto& d : records) d.message = scrub_secrets(d.message, secret);
    return Parts{scrub_secrets(operation, secret), scrub_secrets(context, secret), std::move(records)};
}

Error::Error(std::string operation, std::string context, std::vector<Diagnostic> records, std::string_view secret)
    : Error(scrub(std::move(operation), std::move(context), std::move(records), secret)) {}

Error::Error(Parts parts)
    : std::runtime_error(join_context(parts.operation, parts.context, parts.records)),
      operation_(std::move(parts.operation)),
      context_(std::move(parts.context)),
      records_(std::move(parts.records)) {}

bool Error::has_sqlstate(std::string_view sqlstate) const noexcept {
    return std::any_of(records_.begin(), records_.end(), [&](const Diagnostic& d) { return d.sqlstate == sqlstate; });
}

bool Error::has_native(std::int32_t native_error) const noexcept {
    return std::any_of(records_.begin(), records_.end(),
                       [&](const Diagnostic& d) { return d.native_error == native_error; });
}

std::string Error::sqlstate() const { return records_.empty() ? std::string{} : records_.front().sqlstate; }

std::int32_t Error::native_error() const noexcept {
    for (const auto& d : records_)
        if (d.native_error != 0) return d.native_error;
    return 0;
}

Error make_error(std::string operation, std::string context, std::string message, std::string sqlstate) {
    return Error(std::move(operation), std::move(context), {Diagnostic{std::move(sqlstate), 0, std::move(message)}});
}

}  // namespace dmvlog::odbc
