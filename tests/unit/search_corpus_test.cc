// The search corpus (tests/e2e/search_corpus) at the library level: each message's text is
// extracted and every query that must find it matches exactly, every query that must not
// does not. The e2e test runs the same queries through Postfix, the daemon and the tool;
// this one names the failing case and query in milliseconds.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mailjournal/search_query.h"
#include "mailjournal/text_extract.h"

namespace mailjournal {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool QueryMatches(const std::string& text, const SearchDocument& doc) {
  QueryNode q;
  Status s = ParseQuery(text, &q);
  BOOST_REQUIRE_MESSAGE(s.ok(), text + ": " + s.ToString());
  return Matches(q, doc);
}

BOOST_AUTO_TEST_SUITE(search_corpus)

BOOST_AUTO_TEST_CASE(every_corpus_query_finds_or_misses_its_message) {
  const std::string dir = MAILJOURNAL_SEARCH_CORPUS;
  json cases = json::parse(Slurp(dir + "/cases.json"));
  BOOST_REQUIRE(cases.size() >= 40u);
  size_t queries = 0;
  for (const json& c : cases) {
    std::string file = c["file"].get<std::string>();
    std::string bytes = Slurp(dir + "/" + file);
    BOOST_REQUIRE_MESSAGE(!bytes.empty(), file);
    ExtractedText text = ExtractText(bytes);
    SearchDocument doc = BuildDocument(text, {c["mail_from"].get<std::string>()},
                                       c["rcpts"].get<std::vector<std::string>>());
    for (const json& q : c["find"]) {
      BOOST_CHECK_MESSAGE(QueryMatches(q.get<std::string>(), doc),
                          file + ": must find: " + q.get<std::string>());
      ++queries;
    }
    for (const json& q : c["miss"]) {
      BOOST_CHECK_MESSAGE(!QueryMatches(q.get<std::string>(), doc),
                          file + ": must not find: " + q.get<std::string>());
      ++queries;
    }
    for (const json& q : c.value("find_best_effort", json::array())) {
      if (!QueryMatches(q.get<std::string>(), doc)) {
        BOOST_TEST_MESSAGE(file + ": best effort, not found: " + q.get<std::string>());
      }
    }
  }
  BOOST_TEST(queries > 400u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
