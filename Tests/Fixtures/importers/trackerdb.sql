PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
-- A small sample written for tagwatch's tests in the shape of WhoTracks.me's trackerdb.sql. Not WhoTracks.me's data.
CREATE TABLE categories(
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE
);
INSERT INTO "categories" VALUES(2,'customer_interaction');
INSERT INTO "categories" VALUES(4,'advertising');
INSERT INTO "categories" VALUES(6,'site_analytics');
INSERT INTO "categories" VALUES(8,'misc');
CREATE TABLE "companies" (
	`id`	TEXT NOT NULL UNIQUE,
	`name`	TEXT NOT NULL,
	`description`	TEXT,
	`privacy_url`	TEXT,
	`website_url`	TEXT,
	`ghostery_id`	TEXT
);
INSERT INTO "companies" VALUES('acme','Acme Holdings ',NULL,'https://acme.example.com/privacy',' https://acme.example.com/','1');
INSERT INTO "companies" VALUES('google','Google',NULL,'http://www.google.com/privacy.html','https://www.google.com/','2');
CREATE TABLE tracker_domains(
    tracker TEXT NOT NULL,
    domain TEXT UNIQUE NOT NULL,
    FOREIGN KEY(tracker) REFERENCES trackers(id)
);
INSERT INTO "tracker_domains" VALUES('acme_ads','acmeads.example.com');
INSERT INTO "tracker_domains" VALUES('acme_ads','acmeads-cdn.example.net');
INSERT INTO "tracker_domains" VALUES('acme_chat','chat.acme.example.com');
INSERT INTO "tracker_domains" VALUES('google_analytics','google-analytics.com');
INSERT INTO "tracker_domains" VALUES('beacon','beaconmetrics.example.org');
CREATE TABLE "trackers" (
	`id`	TEXT NOT NULL UNIQUE,
	`name`	TEXT NOT NULL,
	`category_id`	INTEGER,
	`website_url`	TEXT,
	`company_id`	TEXT,
	`ghostery_id`	TEXT,
	`notes`	TEXT,
	FOREIGN KEY(`category_id`) REFERENCES `categories`(`id`),
	FOREIGN KEY(`company_id`) REFERENCES `companies`(`id`)
);
INSERT INTO "trackers" VALUES('acme_ads','Acme Ads',4,'https://acmeads.example.com/','acme','10',NULL);
INSERT INTO "trackers" VALUES('acme_chat','Acme Chat',2,NULL,'acme',NULL,NULL);
INSERT INTO "trackers" VALUES('google_analytics','Google Analytics',6,'http://www.google.com/analytics/','google','13',NULL);
INSERT INTO "trackers" VALUES('beacon','Beacon Metrics',6,NULL,NULL,NULL,NULL);
INSERT INTO "trackers" VALUES('lonely','Lonely Tracker',8,NULL,NULL,NULL,NULL);
CREATE TABLE urls(
    url TEXT PRIMARY KEY,
    robots_allowed TEXT NULL,
    status TEXT NULL,
    last_checked DATETIME NULL
);
CREATE UNIQUE INDEX tracker_domain_pair ON tracker_domains(tracker, domain);
COMMIT;
