#include "agent/query/delta.h"

#include <algorithm>
#include <map>

namespace dmvlog::query {

const char* quality_name(Quality q) {
    switch (q) {
        case Quality::exact: return "exact";
        case Quality::lower_bound: return "lower-bound";
        case Quality::partial: return "partial";
    }
    return "exact";
}

Quality worse(Quality a, Quality b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

std::uint64_t hash_mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed) {
    std::uint64_t h = seed ^ 0xCBF29CE484222325ull;
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t w = 0;
        for (int k = 0; k < 8; ++k) w |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i + k])) << (8 * k);
        h = (h ^ w) * 0x100000001B3ull;
        h ^= h >> 29;
    }
    for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001B3ull;
    return hash_mix(h, bytes.size());
}

// ---- plan lifetimes ----

void LifetimeDeltas::observe(std::uint64_t key, std::int64_t at, std::int64_t creation, const Metrics& values,
                             const LifetimeInfo& info) {
    auto [it, fresh] = lifetimes_.try_emplace(key);
    Lifetime& l = it->second;
    if (fresh) {
        l.info = info;
        l.creation = creation;
        l.first_at = l.last_at = at;
        l.first = l.last = values;
        l.observations = 1;
        return;
    }
    ++l.observations;
    if (at < l.first_at) {
        l.first_at = at;
        l.first = values;
    }
    if (at >= l.last_at) {
        l.last_at = at;
        l.last = values;
        if (info.text_hash != 0) l.info.text_hash = info.text_hash;
    }
    if (l.info.text_hash == 0) l.info.text_hash = info.text_hash;
}

void LifetimeDeltas::merge(LifetimeDeltas&& other) {
    if (lifetimes_.empty()) {
        lifetimes_ = std::move(other.lifetimes_);
        return;
    }
    lifetimes_.reserve(lifetimes_.size() + other.lifetimes_.size());
    for (auto& [key, o] : other.lifetimes_) {
        auto [it, fresh] = lifetimes_.try_emplace(key, std::move(o));
        if (fresh) continue;
        Lifetime& l = it->second;
        l.observations += o.observations;
        if (o.first_at < l.first_at) {
            l.first_at = o.first_at;
            l.first = o.first;
        }
        if (o.last_at >= l.last_at) {
            l.last_at = o.last_at;
            l.last = o.last;
            if (o.info.text_hash != 0) l.info.text_hash = o.info.text_hash;
        }
        if (l.info.text_hash == 0) l.info.text_hash = o.info.text_hash;
        if (o.baseline_at && (!l.baseline_at || *o.baseline_at > *l.baseline_at)) {
            l.baseline_at = o.baseline_at;
            l.baseline = o.baseline;
        }
    }
    other.lifetimes_.clear();
}

bool LifetimeDeltas::wants_baseline(std::uint64_t key) const {
    auto it = lifetimes_.find(key);
    return it != lifetimes_.end() && it->second.creation < from_ && !it->second.baseline_at;
}

void LifetimeDeltas::baseline(std::uint64_t key, std::int64_t at, const Metrics& values) {
    if (at > from_) return;
    auto it = lifetimes_.find(key);
    if (it == lifetimes_.end()) return;
    Lifetime& l = it->second;
    if (l.creation >= from_) return;  // counted whole: no baseline needed
    if (!l.baseline_at || at > *l.baseline_at) {
        l.baseline_at = at;
        l.baseline = values;
    }
}

LifetimeDeltas::Delta LifetimeDeltas::delta(const Lifetime& l, std::int64_t from) {
    Delta d;
    if (l.creation >= from) {
        d.values = l.last;
    } else if (l.baseline_at) {
        for (int i = 0; i < kMaxMetrics; ++i) d.values[i] = std::max<std::int64_t>(0, l.last[i] - l.baseline[i]);
    } else {
        for (int i = 0; i < kMaxMetrics; ++i) d.values[i] = std::max<std::int64_t>(0, l.last[i] - l.first[i]);
        d.quality = Quality::lower_bound;
    }
    return d;
}

std::vector<GroupTotal> group_totals(const LifetimeDeltas& d, const std::function<std::string(const Lifetime&)>& group_of,
                                     bool drop_without_baseline) {
    // Lifetimes in key order and groups in name order: the same data gives the same result whatever order
    // the store returned its rows in (SQLite and PostgreSQL order rows of equal sort keys differently).
    std::vector<std::uint64_t> keys;
    keys.reserve(d.lifetimes().size());
    for (const auto& [key, l] : d.lifetimes()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    std::map<std::string, GroupTotal> groups;
    for (auto key : keys) {
        const auto& l = d.lifetimes().at(key);
        auto delta = d.delta(l);
        if (drop_without_baseline && delta.quality == Quality::lower_bound) continue;
        std::string name = group_of ? group_of(l) : l.info.group;
        auto& g = groups[name];
        g.group = name;
        for (int i = 0; i < kMaxMetrics; ++i) g.values[i] += delta.values[i];
        ++g.lifetimes;
        if (delta.quality == Quality::lower_bound) ++g.lower_bound_lifetimes;
        if (l.last_at >= g.last_seen || g.lifetimes == 1) {
            std::int64_t keep_text = g.sample.text_hash;
            g.sample = l.info;
            if (g.sample.text_hash == 0) g.sample.text_hash = keep_text;
            g.last_seen = std::max(g.last_seen, l.last_at);
        } else if (g.sample.text_hash == 0) {
            g.sample.text_hash = l.info.text_hash;
        }
        if (std::find(g.plan_hashes.begin(), g.plan_hashes.end(), l.info.plan_hash) == g.plan_hashes.end())
            g.plan_hashes.push_back(l.info.plan_hash);
    }
    std::vector<GroupTotal> out;
    out.reserve(groups.size());
    for (auto& [k, g] : groups) out.push_back(std::move(g));
    return out;
}

// ---- server counters ----

void CounterDeltas::snapshot(std::int64_t at, const std::string& epoch) {
    if (open_) close();
    open_ = true;
    at_ = at;
    epoch_ = epoch;
    cur_.clear();
}

void CounterDeltas::row(const std::string& key, const Metrics& values) { cur_[key] = values; }

void CounterDeltas::finish() {
    if (open_) close();
    open_ = false;
}

void CounterDeltas::close() {
    if (at_ >= to_) return;  // after the window: ignored
    const bool in_window = at_ >= from_;
    const bool counted = have_prev_ && at_ > from_;
    if (in_window) {
        ++in_window_;
        measured_to_ = at_;
        if (measured_from_ == 0) measured_from_ = at_;
    } else {
        measured_from_ = at_;
    }

    enum class Mode { per_key, all_new } mode = Mode::per_key;
    if (have_prev_ && epoch_ != prev_epoch_) {
        mode = Mode::all_new;
        if (counted) resets_.push_back({at_, "restart", "", static_cast<int>(cur_.size())});
        last_.clear();
    } else if (full_ && have_prev_ && !prev_snapshot_.empty()) {
        std::size_t down = 0;
        for (const auto& [k, pv] : prev_snapshot_) {
            auto it = cur_.find(k);
            if (it == cur_.end()) {
                ++down;
                continue;
            }
            for (int i = 0; i < n_; ++i)
                if (it->second[i] < pv[i]) {
                    ++down;
                    break;
                }
        }
        if (down * 2 >= prev_snapshot_.size() && down > 0) {
            mode = Mode::all_new;
            if (counted) resets_.push_back({at_, "clear", "", static_cast<int>(down)});
            last_.clear();
        }
    }

    for (const auto& [k, v] : cur_) {
        Metrics delta{};
        bool lower = false;
        if (mode == Mode::all_new) {
            delta = v;
        } else {
            auto it = last_.find(k);
            if (it == last_.end()) {
                if (full_) {
                    delta = v;  // was zero (not listed) in the previous snapshot
                } else {
                    lower = true;  // no earlier observation: this one is its baseline
                }
            } else {
                bool decreased = false;
                for (int i = 0; i < n_; ++i) {
                    if (v[i] >= it->second[i]) {
                        delta[i] = v[i] - it->second[i];
                    } else {
                        delta[i] = v[i];
                        decreased = true;
                    }
                }
                if (decreased && counted) resets_.push_back({at_, "decrease", k, 1});
            }
        }
        if (in_window) {
            auto& t = totals_[k];
            if (counted) {
                for (int i = 0; i < n_; ++i) t.delta[i] += delta[i];
            }
            if (lower) t.lower_bound = true;  // a sparse key without an earlier observation
            ++t.observations;
            t.last = v;
        }
        last_[k] = v;
    }
    if (full_) {
        // keys not listed are zero now
        for (auto it = last_.begin(); it != last_.end();) {
            if (!cur_.count(it->first)) it = last_.erase(it);
            else ++it;
        }
        prev_snapshot_ = cur_;
    }
    have_prev_ = true;
    prev_epoch_ = epoch_;
}

}  // namespace dmvlog::query
