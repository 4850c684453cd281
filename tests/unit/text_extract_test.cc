// Unit tests of mailjournal/text_extract.h (to be written).
