// Unit tests of mailjournal/tokenize.h (to be written).
