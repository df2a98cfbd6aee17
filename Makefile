# csqm — run `make` for the list of targets.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
CSQM   := $(VENV)/bin/csqm
JARS   := jars
DEMO_START ?= 20130101
DEMO_DAYS  ?= 31
DEMO_SUBS  ?= 3000
DEMO_SEED  ?= 7

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-integration lint bench dist clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.stamp-install: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,dev,xlsx]'
	touch $@

$(JARS)/.stamp: conf/jars.yaml $(VENV)/.stamp-install
	$(PY) -m csqm.jars conf/jars.yaml $(JARS)
	touch $@

setup: $(VENV)/.stamp-install $(JARS)/.stamp ## install the package (venv) and fetch the Delta jars once

DEMO_ROOTS = --landing-root data/demo/landing --lake-root data/demo/lake --backup-root data/demo/backup
DEMO_DAY   = $(shell $(PYTHON) -c "import datetime as d;s='$(DEMO_START)';print((d.date(int(s[:4]),int(s[4:6]),int(s[6:]))+d.timedelta(days=$(1))).strftime('%Y%m%d'))")
DEMO_LAST  = $(call DEMO_DAY,$(DEMO_DAYS)-1)
DEMO_PREV  = $(call DEMO_DAY,$(DEMO_DAYS)-2)

demo: setup ## generate a sample month of source files, run the pipeline over it, print what it built
	rm -rf data/demo
	$(CSQM) generate --start $(DEMO_START) --days $(DEMO_DAYS) --subscribers $(DEMO_SUBS) --seed $(DEMO_SEED) $(DEMO_ROOTS)
	@echo "== initial load: every batch up to $(DEMO_PREV), then the daily run of $(DEMO_LAST) =="
	$(CSQM) daily --date $(DEMO_PREV) $(DEMO_ROOTS)
	@echo "== business staff upload the year's KPI targets and the month's third-party survey =="
	$(CSQM) upload --table man_kpi_target --file samples/man_kpi_target_2013.csv --user demo $(DEMO_ROOTS)
	$(CSQM) upload --table man_third_party_survey --file samples/man_third_party_survey_201301.csv --user demo $(DEMO_ROOTS)
	$(CSQM) daily --date $(DEMO_LAST) $(DEMO_ROOTS)
	$(CSQM) kpi --date $(DEMO_LAST) --check-columns $(DEMO_ROOTS)
	$(CSQM) status $(DEMO_ROOTS)
	@echo "== a MONTHLY backup of every table of every layer (incremental: files the daily backups hold are not copied) =="
	$(CSQM) backup --all --type MONTHLY $(DEMO_ROOTS)

test: setup ## run the test suite (two workers; the shared pipeline lake stays in one of them)
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=15 -m "not integration" tests

test-integration: setup ## the integration tests: a Spark standalone cluster, headless Chromium (apt-get install chromium), Airflow (pip install '.[airflow]')
	$(PY) -m pytest -q -m integration tests

lint: setup ## static checks
	$(VENV)/bin/ruff check lib tests jobs bench

BENCH_SF      ?= 0.0001
BENCH_HISTORY ?= 90
BENCH_ARGS    ?=
bench: setup ## benchmark the daily pipeline against the I/O floor (BENCH_SF=0.1 BENCH_HISTORY=90; docs/bench.md)
	$(PY) -m bench.run $(foreach sf,$(BENCH_SF),--sf $(sf)) --history $(BENCH_HISTORY) $(BENCH_ARGS)

DIST ?= dist

dist: setup ## build what spark-submit needs: package zip, jars, conf (docs/deploy.md)
	rm -rf $(DIST) && mkdir -p $(DIST)/jars
	cd lib && zip -qr $(abspath $(DIST))/csqm.zip csqm -x '*__pycache__*'
	cp $(JARS)/*.jar $(DIST)/jars/ && cp -r conf jobs $(DIST)/

clean: ## remove the venv, jars, generated data and build output
	rm -rf $(VENV) $(JARS) data dist build lib/*.egg-info .pytest_cache
