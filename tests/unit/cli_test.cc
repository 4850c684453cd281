// The tool's sequence number arguments: "N" and "N-M" (export's SEQ..., hold add --seq).
#include "cli.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mailjournal {
namespace {

using Range = std::pair<uint64_t, uint64_t>;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(seq_range_parses_a_number_or_an_inclusive_range) {
  Range r{0, 0};
  BOOST_REQUIRE(ParseSeqRange("42", &r).ok());
  BOOST_TEST((r == Range{42, 42}));
  BOOST_REQUIRE(ParseSeqRange("7-9", &r).ok());
  BOOST_TEST((r == Range{7, 9}));
  BOOST_REQUIRE(ParseSeqRange("5-5", &r).ok());
  BOOST_TEST((r == Range{5, 5}));
  BOOST_REQUIRE(ParseSeqRange("1-9999999999999999999", &r).ok());
  BOOST_TEST((r == Range{1, 9999999999999999999ull}));  // no expansion, so no size limit
}

BOOST_AUTO_TEST_CASE(seq_range_refuses_what_is_not_one_and_leaves_the_range_alone) {
  for (const char* bad : {"", "0", "0-3", "9-3", "-3", "3-", "1--2", "a", "1-b", " 1", "+1", "1.5",
                          "10000000000000000000"}) {
    Range r{11, 12};
    Status s = ParseSeqRange(bad, &r);
    BOOST_TEST((s.code() == Status::Code::kInvalidArgument), bad);
    BOOST_TEST(s.message() ==
               "'" + std::string(bad) + "': expected a sequence number N or a range N-M");
    BOOST_TEST((r == Range{11, 12}), bad);
  }
}

BOOST_AUTO_TEST_CASE(seq_range_expands_for_export_at_most_a_million_numbers) {
  std::vector<uint64_t> seqs{1};
  BOOST_REQUIRE(ParseSeqRange("3-5", &seqs).ok());
  BOOST_REQUIRE(ParseSeqRange("8", &seqs).ok());
  BOOST_TEST(seqs == (std::vector<uint64_t>{1, 3, 4, 5, 8}), boost::test_tools::per_element());
  seqs.clear();
  BOOST_REQUIRE(ParseSeqRange("1-1000000", &seqs).ok());
  BOOST_TEST(seqs.size() == 1000000u);
  seqs.clear();
  Status s = ParseSeqRange("1-1000001", &seqs);
  BOOST_TEST((s.code() == Status::Code::kInvalidArgument));
  BOOST_TEST(s.message() == "'1-1000001': range too large");
  BOOST_TEST(seqs.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
