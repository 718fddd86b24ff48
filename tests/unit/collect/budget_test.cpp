#include "agent/collect/budget.h"

#include <gtest/gtest.h>

namespace dmvlog::collect {
namespace {

using ms = std::chrono::milliseconds;

TEST(BudgetGovernor, DefaultBudgetIsATenthOfTheInterval) {
    BudgetGovernor g(ms(60000), ms(0));
    EXPECT_EQ(g.budget(), ms(6000));
}

TEST(BudgetGovernor, BacksOffAfterThreeRunsOverBudgetUpToEightTimes) {
    BudgetGovernor g(ms(60000), ms(1000));
    EXPECT_FALSE(g.observe(1500));
    EXPECT_FALSE(g.observe(1500));
    auto first = g.observe(1500);
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, ms(120000));
    for (int i = 0; i < 3; ++i) g.observe(5000);
    for (int i = 0; i < 3; ++i) g.observe(5000);
    EXPECT_EQ(g.factor(), 8);
    for (int i = 0; i < 9; ++i) EXPECT_FALSE(g.observe(5000)) << "never beyond 8x";
}

TEST(BudgetGovernor, ARunWithinBudgetResetsTheStrikes) {
    BudgetGovernor g(ms(60000), ms(1000));
    g.observe(1500);
    g.observe(1500);
    g.observe(900);
    EXPECT_FALSE(g.observe(1500));
    EXPECT_FALSE(g.observe(1500));
    EXPECT_EQ(g.factor(), 1);
}

TEST(BudgetGovernor, ComesBackWhenRunsFitAgain) {
    BudgetGovernor g(ms(10000), ms(1000));
    for (int i = 0; i < 6; ++i) g.observe(2000);
    EXPECT_EQ(g.factor(), 4);
    EXPECT_FALSE(g.observe(100));
    EXPECT_FALSE(g.observe(100));
    auto back = g.observe(100);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, ms(20000));
    EXPECT_FALSE(g.observe(700)) << "a run above half the budget does not count as fitting";
}

}  // namespace
}  // namespace dmvlog::collect
