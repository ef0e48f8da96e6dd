-- One database per service (DESIGN.md: never a table shared between services), each owned by
-- the role the service connects as. Run once by the postgres image on an empty volume.
CREATE DATABASE enrollment;
CREATE DATABASE training;
CREATE DATABASE certification;
CREATE DATABASE notify;
