#include "agent/query/blocking.h"

#include <algorithm>
#include <functional>

namespace dmvlog::query {

namespace {

bool blocks(const RequestRow& r) { return r.blocking != 0 && r.blocking != r.session; }

// The head of s's chain: follow blocking_session_id until a session that is not blocked (or a cycle).
int head_of(int s, const std::map<int, const RequestRow*>& by_session) {
    std::set<int> seen;
    int cur = s;
    while (true) {
        seen.insert(cur);
        auto it = by_session.find(cur);
        if (it == by_session.end() || !blocks(*it->second)) return cur;
        int next = it->second->blocking;
        if (seen.count(next)) return std::min(cur, next);  // a cycle (deadlock in progress): pick one
        cur = next;
    }
}

}  // namespace

std::vector<BlockingSample> samples_from_snapshot(const std::string& source, std::int64_t at, std::int64_t resolution,
                                                  int sequence, const std::vector<RequestRow>& rows) {
    std::map<int, const RequestRow*> by_session;
    for (const auto& r : rows)
        if (!by_session.count(r.session) || blocks(r)) by_session[r.session] = &r;
    std::map<int, BlockingSample> per_head;
    for (const auto& r : rows) {
        if (!blocks(r)) continue;
        int h = head_of(r.session, by_session);
        auto& s = per_head[h];
        s.source = source;
        s.at = at;
        s.resolution = resolution;
        s.sequence = sequence;
        s.head = h;
        s.blocked.push_back({r.session, r.blocking, r.wait_ms, r.wait_type, r.resource});
    }
    std::vector<BlockingSample> out;
    for (auto& [h, s] : per_head) {
        auto it = by_session.find(h);
        if (it != by_session.end()) {
            s.head_running = true;
            s.head_login = it->second->login;
            s.head_host = it->second->host;
            s.head_program = it->second->program;
            s.head_text_hash = it->second->text_hash;
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<Episode> build_episodes(std::vector<BlockingSample> samples) {
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
        return std::tie(a.source, a.head, a.at) < std::tie(b.source, b.head, b.at);
    });
    struct Partial {
        Episode e;
        std::string source;
        int last_sequence = 0;
        std::int64_t resolution = 0;
    };
    std::vector<Partial> parts;
    auto absorb = [](Episode& e, const BlockingSample& s) {
        if (e.samples == 0) {
            e.head = s.head;
            e.first_seen = s.at;
            std::int64_t w = 0;
            for (const auto& b : s.blocked) w = std::max(w, b.wait_ms);
            e.began_by = s.at - w * 10'000;
        }
        e.last_seen = std::max(e.last_seen, s.at);
        ++e.samples;
        e.sources.insert(s.source);
        for (const auto& b : s.blocked) {
            e.sessions.insert(b.session);
            e.max_wait_ms = std::max(e.max_wait_ms, b.wait_ms);
            if (!b.wait_type.empty()) ++e.wait_types[b.wait_type];
            if (!b.resource.empty() && e.resources.size() < 8) e.resources.insert(b.resource);
        }
        if (s.head_running || e.head_login.empty()) {
            if (!s.head_login.empty()) e.head_login = s.head_login;
            if (!s.head_host.empty()) e.head_host = s.head_host;
            if (!s.head_program.empty()) e.head_program = s.head_program;
            if (s.head_text_hash) e.head_text_hash = s.head_text_hash;
        }
    };
    for (const auto& s : samples) {
        if (!parts.empty() && parts.back().source == s.source && parts.back().e.head == s.head &&
            s.sequence == parts.back().last_sequence + 1) {
            absorb(parts.back().e, s);
            parts.back().last_sequence = s.sequence;
            continue;
        }
        Partial p;
        p.source = s.source;
        p.last_sequence = s.sequence;
        p.resolution = s.resolution;
        absorb(p.e, s);
        parts.push_back(std::move(p));
    }
    // Merge across sources: same head, overlapping within the coarser resolution.
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
        return std::tie(a.e.head, a.e.first_seen) < std::tie(b.e.head, b.e.first_seen);
    });
    std::vector<Episode> out;
    std::vector<std::int64_t> reach;
    for (auto& p : parts) {
        if (!out.empty() && out.back().head == p.e.head && p.e.first_seen <= reach.back() + p.resolution &&
            !out.back().sources.count(p.source)) {
            Episode& e = out.back();
            e.first_seen = std::min(e.first_seen, p.e.first_seen);
            e.began_by = std::min(e.began_by, p.e.began_by);
            e.last_seen = std::max(e.last_seen, p.e.last_seen);
            e.samples += p.e.samples;
            e.sessions.insert(p.e.sessions.begin(), p.e.sessions.end());
            e.max_wait_ms = std::max(e.max_wait_ms, p.e.max_wait_ms);
            for (auto& [k, v] : p.e.wait_types) e.wait_types[k] += v;
            e.resources.insert(p.e.resources.begin(), p.e.resources.end());
            e.sources.insert(p.e.sources.begin(), p.e.sources.end());
            if (e.head_text_hash == 0) e.head_text_hash = p.e.head_text_hash;
            if (e.head_login.empty()) e.head_login = p.e.head_login;
            if (e.head_host.empty()) e.head_host = p.e.head_host;
            if (e.head_program.empty()) e.head_program = p.e.head_program;
            reach.back() = std::max(reach.back(), p.e.last_seen + p.resolution);
            continue;
        }
        reach.push_back(p.e.last_seen + p.resolution);
        out.push_back(std::move(p.e));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first_seen < b.first_seen; });
    return out;
}

std::vector<std::pair<int, RequestRow>> blocking_tree(const std::vector<RequestRow>& rows) {
    std::map<int, const RequestRow*> by_session;
    std::map<int, std::vector<const RequestRow*>> children;
    for (const auto& r : rows) {
        if (!by_session.count(r.session) || blocks(r)) by_session[r.session] = &r;
    }
    std::set<int> heads;
    for (const auto& [s, r] : by_session) {
        if (!blocks(*r)) continue;
        children[r->blocking].push_back(r);
        heads.insert(head_of(s, by_session));
    }
    std::vector<std::pair<int, RequestRow>> out;
    std::set<int> done;
    std::function<void(int, int)> walk = [&](int s, int depth) {
        if (!done.insert(s).second) return;
        auto it = by_session.find(s);
        if (it != by_session.end()) {
            RequestRow r = *it->second;
            if (depth == 0) r.blocking = 0;  // a cycle's chosen head is shown as the head
            out.push_back({depth, r});
        } else {
            RequestRow r;
            r.session = s;
            out.push_back({depth, r});
        }
        for (const auto* c : children[s]) walk(c->session, depth + 1);
    };
    for (int h : heads) walk(h, 0);
    return out;
}

}  // namespace dmvlog::query
