// mboxrd conversion and no-overwrite output files.
#include "output.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace mailjournal {
namespace {

// Writes messages through MboxrdWriter, each split into pieces of `piece` bytes.
std::string Mbox(const std::vector<std::string>& messages, size_t piece) {
  TempDir dir;
  std::string path = dir.path() + "/out.mbox";
  {
    Output out;
    BOOST_REQUIRE(out.Open(path).ok());
    MboxrdWriter w(&out);
    for (const auto& m : messages) {
      BOOST_REQUIRE(w.Begin("a@b", 0).ok());
      for (size_t off = 0; off < m.size(); off += piece) {
        BOOST_REQUIRE(w.Write(std::string_view(m).substr(off, piece)).ok());
      }
      BOOST_REQUIRE(w.End().ok());
    }
    BOOST_REQUIRE(out.Commit().ok());
  }
  return ReadFile(path);
}

BOOST_AUTO_TEST_SUITE(output)

BOOST_AUTO_TEST_CASE(mboxrd_quotes_from_lines_and_converts_crlf_whatever_the_split) {
  std::string msg =
      "Subject: s\r\n\r\nFrom here\r\n>From there\r\n>>From x\r\nFrom\r\nFro\r\n"
      "Frome\r\nbare\rcr\r\n";
  std::string want =
      "From a@b Thu Jan  1 00:00:00 1970\n"
      "Subject: s\n\n>From here\n>>From there\n>>>From x\nFrom\nFro\nFrome\nbare\rcr\n\n";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, msg.size()}) {
    BOOST_TEST_CONTEXT("piece " << piece) { BOOST_TEST(Mbox({msg}, piece) == want); }
  }
}

BOOST_AUTO_TEST_CASE(mboxrd_ends_each_message_with_a_blank_line) {
  std::string got = Mbox({"A: 1\r\n\r\nno final newline", "B: 2\r\n\r\nx\r\n"}, 4);
  BOOST_TEST(got ==
             "From a@b Thu Jan  1 00:00:00 1970\nA: 1\n\nno final newline\n\n"
             "From a@b Thu Jan  1 00:00:00 1970\nB: 2\n\nx\n\n");
}

BOOST_AUTO_TEST_CASE(output_never_overwrites_an_existing_file) {
  TempDir dir;
  std::string path = dir.path() + "/evidence.eml";
  std::ofstream(path) << "original";
  Output out;
  BOOST_REQUIRE(out.Open(path).ok());
  BOOST_REQUIRE(out.Write("new").ok());
  Status s = out.Commit();
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("already exists") != std::string::npos);
  BOOST_TEST(ReadFile(path) == "original");
}

BOOST_AUTO_TEST_CASE(output_abandoned_before_commit_leaves_nothing) {
  TempDir dir;
  std::string path = dir.path() + "/partial.eml";
  {
    Output out;
    BOOST_REQUIRE(out.Open(path).ok());
    BOOST_REQUIRE(out.Write("half").ok());
  }
  std::ifstream in(path);
  BOOST_TEST(!in.good());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
