# Thin wrappers over npm scripts, with the targets of the original Cinema Makefile.
.PHONY: install run-all run-users run-movies run-showtimes run-bookings run-gateway stop-all test lint format clean

install:
	npm install

run-all:
	npm start

run-users:
	npm run start:users

run-movies:
	npm run start:movies

run-showtimes:
	npm run start:showtimes

run-bookings:
	npm run start:bookings

run-gateway:
	npm run start:gateway

stop-all:
	npm run stop

test:
	npm test

lint:
	npm run lint

format:
	npm run format

clean:
	npm run clean
