#include "mailjournal/time_util.h"

#include <boost/test/unit_test.hpp>

namespace mailjournal {
namespace {

BOOST_AUTO_TEST_SUITE(time_util)

BOOST_AUTO_TEST_CASE(formats_utc_with_microseconds) {
  BOOST_TEST(FormatTimeUtc(0) == "1970-01-01T00:00:00.000000Z");
  BOOST_TEST(FormatTimeUtc(1795000000123456) == "2026-11-18T11:06:40.123456Z");
}

BOOST_AUTO_TEST_CASE(parses_dates_times_and_offsets) {
  int64_t t = 0;
  BOOST_REQUIRE(ParseTime("2026-11-27", &t).ok());
  BOOST_TEST(FormatTimeUtc(t) == "2026-11-27T00:00:00.000000Z");
  BOOST_REQUIRE(ParseTime("2026-11-27T10:00:00Z", &t).ok());
  BOOST_TEST(FormatTimeUtc(t) == "2026-11-27T10:00:00.000000Z");
  BOOST_REQUIRE(ParseTime("2026-11-27T18:00:00+08:00", &t).ok());
  BOOST_TEST(FormatTimeUtc(t) == "2026-11-27T10:00:00.000000Z");
  BOOST_REQUIRE(ParseTime("2026-11-27 10:30", &t).ok());
  BOOST_TEST(FormatTimeUtc(t) == "2026-11-27T10:30:00.000000Z");
  BOOST_REQUIRE(ParseTime("2026-11-27T10:00:00.5-01:00", &t).ok());
  BOOST_TEST(FormatTimeUtc(t) == "2026-11-27T11:00:00.500000Z");
  // What FormatTimeUtc prints parses back to the same instant.
  BOOST_REQUIRE(ParseTime("2026-11-18T11:06:40.123456Z", &t).ok());
  BOOST_TEST(t == 1795000000123456);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_times) {
  int64_t t = 0;
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-31", "2026-11-27T25:00",
                          "2026-11-27T10:00:00+8", "yesterday", "2026-11-27T10:00:00.Z"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!ParseTime(bad, &t).ok()); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
