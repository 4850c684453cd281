// Unit tests of mailjournal/search_query.h (to be written).
