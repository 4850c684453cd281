// Shipping's decisions (milter/ship_plan.h): the next range, the retain-until rule and the
// retry schedule.
#include "ship_plan.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/time_util.h"
#include "test_util.h"

namespace mailjournal {
namespace {

std::vector<SegmentRange> Ranges(std::vector<std::pair<uint64_t, uint64_t>> spans) {
  std::vector<SegmentRange> ranges;
  for (auto [first, last] : spans) {
    SegmentRange r;
    r.first = first;
    r.last = last;
    ranges.push_back(r);
  }
  return ranges;
}

BOOST_AUTO_TEST_SUITE(ship_plan)

BOOST_AUTO_TEST_CASE(the_next_range_is_the_first_segment_after_what_is_shipped) {
  std::vector<SegmentRange> ranges = Ranges({{1, 5}, {6, 10}, {11, 15}});
  uint64_t first = 0, last = 0;
  BOOST_REQUIRE(NextShipRange(ranges, 0, &first, &last));
  BOOST_TEST(first == 1u);
  BOOST_TEST(last == 5u);
  BOOST_REQUIRE(NextShipRange(ranges, 10, &first, &last));
  BOOST_TEST(first == 11u);
  BOOST_TEST(last == 15u);
  BOOST_TEST(!NextShipRange(ranges, 15, &first, &last));
  BOOST_TEST(!NextShipRange({}, 0, &first, &last));
}

BOOST_AUTO_TEST_CASE(a_changed_cut_continues_where_the_shipped_ones_end_without_overlap) {
  // Shipped 1-7 with an earlier cut; the cut now gives 1-5, 6-10, 11-15.
  std::vector<SegmentRange> ranges = Ranges({{1, 5}, {6, 10}, {11, 15}});
  uint64_t first = 0, last = 0;
  BOOST_REQUIRE(NextShipRange(ranges, 7, &first, &last));
  BOOST_TEST(first == 8u);
  BOOST_TEST(last == 10u);
}

BOOST_AUTO_TEST_CASE(retain_until_is_the_messages_latest_rounded_up_to_a_second) {
  int64_t now = Time("2026-11-28T03:00:00Z");
  int64_t messages = Time("2036-11-28T03:00:00.250Z");
  BOOST_TEST(ShipRetainUntil(messages, 0, now) == Time("2036-11-28T03:00:01Z"));
  BOOST_TEST(ShipRetainUntil(Time("2036-11-28T03:00:00Z"), Time("2040-01-01"), now) ==
             Time("2036-11-28T03:00:00Z"));
}

BOOST_AUTO_TEST_CASE(a_segment_without_messages_keeps_the_previous_retention) {
  int64_t now = Time("2026-11-28T03:00:00Z");
  BOOST_TEST(ShipRetainUntil(INT64_MIN, Time("2036-01-01"), now) == Time("2036-01-01"));
  // Nothing shipped before: the minimum, a day from now.
  BOOST_TEST(ShipRetainUntil(INT64_MIN, 0, now) == Time("2026-11-29T03:00:00Z"));
}

BOOST_AUTO_TEST_CASE(retention_is_at_least_a_day_and_at_most_the_year_9999) {
  int64_t now = Time("2026-11-28T03:00:00Z");
  // Messages past their retention still get a retention in the future.
  BOOST_TEST(ShipRetainUntil(Time("2020-01-01"), 0, now) == Time("2026-11-29T03:00:00Z"));
  // "For ever" (the largest date a policy gives) is the latest date S3 can hold.
  BOOST_TEST(ShipRetainUntil(INT64_MAX, 0, now) == Time("9999-12-31T23:59:59Z"));
  BOOST_TEST(kLatestShipRetainUntilUs == Time("9999-12-31T23:59:59Z"));
}

BOOST_AUTO_TEST_CASE(transient_failures_back_off_doubling_to_five_minutes) {
  std::vector<int> delays;
  for (int n = 1; n <= 11; ++n) delays.push_back(ShipRetryDelaySeconds(n, true));
  std::vector<int> expected = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
  BOOST_TEST(delays == expected, boost::test_tools::per_element());
  BOOST_TEST(ShipRetryDelaySeconds(1000, true) == 300);
}

BOOST_AUTO_TEST_CASE(other_failures_retry_slowly_from_the_first) {
  BOOST_TEST(ShipRetryDelaySeconds(1, false) == 300);
  BOOST_TEST(ShipRetryDelaySeconds(7, false) == 300);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
