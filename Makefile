# Two entry points for a fresh machine (Python 3.10-3.12 with venv):
#   make book   install what is needed into .venv and build the HTML book (_build/html/index.html)
#   make test   install what is needed into .venv and run every test:
#               nbval over every chapter, unit tests, a book build with warnings as errors,
#               and the browser tests of the built book (headless Chromium, see `browser`)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Test processes run side by side (pytest-xdist); a chapter always runs whole in one
# process (--dist loadfile), top to bottom. WORKERS=1 runs everything in one process.
WORKERS ?= 2
XDIST  := $(if $(filter 1,$(WORKERS)),,-n $(WORKERS))
# The chapters run on one process more: each chapter's kernel leaves the cores partly idle
# while it starts and imports. Files are handed out in the order given (pytest-xdist would
# otherwise sort them by their number of tests), so the longest chapters start first.
NB_WORKERS ?= $(if $(filter 1,$(WORKERS)),1,$(shell echo $$(( $(WORKERS) + 1 ))))
NB_XDIST   := $(if $(filter 1,$(NB_WORKERS)),,-n $(NB_WORKERS) --dist loadfile --no-loadscope-reorder)
# Each test process computes on one thread (TensorFlow's and NumPy's thread pools): the
# processes fill the cores. On 2 cores with the cores busy, a small RNN trained 1.8 times
# faster on one thread than on two, whose threads wait for each other.
ONE_THREAD := TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

.PHONY: install book test unit notebooks notebooks-other-cpu book-strict browser test-torch bench values clean

# The installer is uv (a pinned version, installed into the venv by pip): it fetches and unpacks
# the packages in parallel: 47-62 s with the bytecode compiled, on a fresh 2-core machine, where pip
# took about 65 s without compiling (which costs more later, see below). It trusts the
# system's certificate store (--native-tls), as pip does.
UV_VERSION := 0.13.9
UV := $(BIN)/python -m uv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

# The library's ranges (pyproject.toml), at the course's exact versions (constraints.txt).
# --compile-bytecode: the modules are compiled once, at install time, in parallel. Without it a
# machine that writes no bytecode (PYTHONDONTWRITEBYTECODE) compiles TensorFlow again in every
# process that imports it: 11 s instead of 4 s per import, in each test process and chapter.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(UV) pip install --quiet --native-tls --link-mode=copy --compile-bytecode --python $(BIN)/python -c constraints.txt -e ".[book,test]"
	touch $@

install: $(VENV)/.installed

book: install
	$(BIN)/jupyter-book build --all -W --keep-going .
	@echo "Book: _build/html/index.html"

unit: install
	$(ONE_THREAD) $(BIN)/python -m pytest $(XDIST) tests

# Chapters run with an empty experiment cache, so every training run is redone. What
# decides is each chapter's claim checks (initcourse.course.claims), which hold on any CPU;
# only cells tagged nbval-check-output (seeded NumPy) are compared with stored output (their
# glued floats within a relative 1e-6: book/conftest.py).
# The longest chapters are handed out first, so that the test processes finish together.
SLOW_FIRST := book/10_case_imdb.ipynb book/09_case_cifar10.ipynb book/08_batchnorm.ipynb book/11_practical_tips.ipynb \
              book/13_beyond_plain_networks.ipynb book/05_he_lecun.ipynb
CHAPTERS   := $(SLOW_FIRST) $(filter-out $(SLOW_FIRST),$(sort $(wildcard book/*.ipynb)))

notebooks: install
	@start=$$(date +%s); \
	cache=$$(mktemp -d) && INITCOURSE_CACHE=$$cache $(ONE_THREAD) $(BIN)/python -m pytest $(NB_XDIST) $(NBVAL) $(NBVAL_ARGS) $(CHAPTERS) $(ALSO); \
	status=$$?; rm -rf "$$cache"; \
	echo "notebooks$(if $(ALSO), and $(ALSO)): $$(( $$(date +%s) - start )) s"; exit $$status

# The same, with the float rounding of another machine: oneDNN off and one thread
# change TensorFlow's kernels and summation order, as a different CPU does.
notebooks-other-cpu:
	TF_ENABLE_ONEDNN_OPTS=0 TF_NUM_INTRAOP_THREADS=1 $(MAKE) --no-print-directory notebooks

book-strict: install
	$(BIN)/jupyter-book build --all -W --keep-going .

# The built book in headless Chromium with the network blocked: every page (maths, links,
# images, solutions, layout, console) and two chapters in a real JupyterLab (inline values,
# citations). Needs the book built (make book) and Chromium: Debian's `chromium` package at
# /usr/bin/chromium, or any Chromium/Chrome named by INITCOURSE_CHROMIUM. The unit run
# (make unit) skips these tests.
browser: install
	@test -f _build/html/index.html || { echo "browser: no built book; run make book first"; exit 1; }
	@start=$$(date +%s); \
	INITCOURSE_BROWSER=1 $(BIN)/python -m pytest $(XDIST) $(if $(XDIST),--dist loadfile) tests/browser; \
	status=$$?; echo "browser: $$(( $$(date +%s) - start )) s"; exit $$status

# Runs the four suites and fails if any failed (the browser tests run on the book just built,
# so only when that build passed). The chapters and the unit tests share one pool of processes,
# chapters first, longest first: the unit tests' many short files fill the gaps the chapters
# leave at the end. The book build and the browser tests need no re-executed chapter (the book
# renders the stored outputs): they run beside the pool, and their log is printed after it.
test: install
	@status=0; \
	log=$$(mktemp); \
	{ if $(MAKE) --no-print-directory book-strict; then $(MAKE) --no-print-directory browser; \
	  else false; fi; } > "$$log" 2>&1 & book=$$!; \
	$(MAKE) --no-print-directory notebooks ALSO=tests || status=1; \
	wait $$book || status=1; \
	cat "$$log"; rm -f "$$log"; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED"; else echo "make test: all passed"; fi; \
	exit $$status

# Compares the NumPy mirrors of PyTorch's defaults and torch.nn.init functions with real
# PyTorch, statistically; needs the optional extra: $(BIN)/python -m pip install -e ".[torch]"
test-torch: install
	INITCOURSE_REQUIRE_TORCH=1 $(BIN)/python -m pytest -rs tests/test_torch_parity.py

bench: install
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_executor.py

# After executing a chapter: store its glued values where JupyterLab and the book find them.
values: install
	$(BIN)/python -m initcourse.course.bookvalues book/*.ipynb

clean:
	rm -rf _build
