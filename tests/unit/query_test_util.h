// Helpers shared by the unit tests of the search query language.
#ifndef MAILJOURNAL_TESTS_UNIT_QUERY_TEST_UTIL_H_
#define MAILJOURNAL_TESTS_UNIT_QUERY_TEST_UTIL_H_

#include <boost/test/unit_test.hpp>
#include <string>

#include "mailjournal/search_query.h"

namespace mailjournal {

// Parses a query that must parse.
inline QueryNode Parse(const std::string& text) {
  QueryNode root;
  Status status = ParseQuery(text, &root);
  BOOST_REQUIRE_MESSAGE(status.ok(), text << ": " << status.ToString());
  return root;
}

// The canonical form of a query that must parse.
inline std::string Canonical(const std::string& text) { return QueryToString(Parse(text)); }

// The message of the InvalidArgument a query that must not parse gives.
inline std::string ParseError(const std::string& text) {
  QueryNode root;
  Status status = ParseQuery(text, &root);
  BOOST_TEST((status.code() == Status::Code::kInvalidArgument), text);
  return status.message();
}

}  // namespace mailjournal

#endif  // MAILJOURNAL_TESTS_UNIT_QUERY_TEST_UTIL_H_
