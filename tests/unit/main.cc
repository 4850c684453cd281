#define BOOST_TEST_MODULE mailjournal unit tests
#include <boost/test/unit_test.hpp>
