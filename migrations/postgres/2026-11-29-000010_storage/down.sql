DROP TABLE store_copies;
DROP TABLE store_location;
