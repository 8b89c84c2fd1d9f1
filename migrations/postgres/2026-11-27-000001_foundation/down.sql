DROP TABLE work_tags;
DROP TABLE works;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
