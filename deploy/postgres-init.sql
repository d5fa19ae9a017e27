-- One database per service: each service owns its data.
CREATE DATABASE docket_cases OWNER docket;
CREATE DATABASE docket_reporting OWNER docket;
