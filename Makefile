# The two commands: `make up` (set up + deploy on the local default) and `make test` (all tests).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help up down test bench setup services-up services-down lint sanity unit integration molecule build

help:
	@echo "make up     set up, start the local cluster + Postgres, deploy Statewave, print the summary"
	@echo "            (SWK_TARGET=kind make up: the same inventory on a kind cluster with real pods)"
	@echo "make test   yamllint, ansible-lint, ansible-test sanity, pytest unit, molecule, integration"
	@echo "make down   stop the local cluster, Postgres servers, kind cluster and the Docker engine this project started"
	@echo "make bench  site.yml against raw helm (hack/bench.sh; not part of make test)"
	@echo "stages: setup services-up services-down lint sanity unit molecule integration build"

up:
	hack/up.sh

down:
	hack/services.sh down-all

test:
	hack/test.sh all

bench:
	hack/bench.sh

setup:
	hack/setup.sh

services-up:
	hack/services.sh up

services-down:
	hack/services.sh down

lint sanity unit molecule integration build:
	hack/test.sh $@
