// A collector's time budget: a collector whose runs keep costing more than its budget is run less often
// (interval doubled after three runs over budget, up to 8x), and goes back step by step when runs fit again.
#pragma once

#include <chrono>
#include <optional>

namespace dmvlog::collect {

class BudgetGovernor {
public:
    using ms = std::chrono::milliseconds;

    // budget 0: a tenth of the interval.
    BudgetGovernor(ms interval, ms budget, int strikes = 3, int max_factor = 8)
        : interval_(interval), budget_(budget.count() > 0 ? budget : interval / 10), strikes_(strikes), max_factor_(max_factor) {}

    // Records one run; returns the new interval when it changes.
    std::optional<ms> observe(double run_ms) {
        const double budget = static_cast<double>(budget_.count());
        if (run_ms > budget) {
            fits_ = 0;
            if (++over_ >= strikes_ && factor_ < max_factor_) {
                over_ = 0;
                factor_ *= 2;
                return interval_ * factor_;
            }
            return std::nullopt;
        }
        over_ = 0;
        if (factor_ > 1 && run_ms < budget / 2 && ++fits_ >= strikes_) {
            fits_ = 0;
            factor_ /= 2;
            return interval_ * factor_;
        }
        return std::nullopt;
    }

    int factor() const { return factor_; }
    ms budget() const { return budget_; }

private:
    ms interval_;
    ms budget_;
    int strikes_;
    int max_factor_;
    int factor_ = 1;
    int over_ = 0;
    int fits_ = 0;
};

}  // namespace dmvlog::collect
