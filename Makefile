# dli-seq: two commands on a fresh machine.
#   make lab     install into .venv and open JupyterLab at the repo root, on 4.1 (localhost, token, no terminals)
#   make test    install into .venv and run the whole test suite
# Also: make course (run every notebook headless into build/), make doctor, make test-gpu,
# make test-oldest (the generation core on the oldest supported versions).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install lab lab-args course doctor test test-oldest test-gpu browser-deps figures standins benchmark clean
.PHONY: wheelhouse wheelhouse-device install-offline
.PHONY: workshop workshop-install workshop-stop workshop-models test-workshop

$(STAMP): pyproject.toml requirements/constraints.txt tools/jupyterlab-overrides.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	@# JupyterLab defaults for a classroom: never ask about or fetch news, never check for updates.
	@mkdir -p $(VENV)/share/jupyter/lab/settings && cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

install: $(STAMP)

# JupyterLab serves the repository root and opens 4.1.
# Terminals are off unless asked for: make lab TERMINALS=1. tests/test_learner_path.py starts
# JupyterLab with exactly these options (make lab-args prints them); no news feed or update check
# (nothing leaves the machine, no pop-up asking about news).
TERMINALS ?= 0
LAB_ARGS = --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. \
	--LabApp.default_url=/lab/tree/notebooks/04-1_machine_translation.ipynb \
	--ServerApp.terminals_enabled=$(if $(filter 1,$(TERMINALS)),True,False) \
	--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
lab: $(STAMP)
	@echo "JupyterLab listens on 127.0.0.1 only; open the URL with ?token=... printed below."
	$(VENV)/bin/jupyter lab $(LAB_ARGS) $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

lab-args:
	@echo $(LAB_ARGS)

# Extra options, e.g. make course COURSE_ARGS="--notebooks 'my/*.ipynb' --timeout 1200"
COURSE_ARGS ?=
course: $(STAMP)
	$(PY) -m dli_seq.course $(COURSE_ARGS)

doctor: $(STAMP)
	$(PY) -m dli_seq doctor

# The browser test needs Debian's chromium; install it when we may (root) and it is missing.
browser-deps:
	@if { [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wenquanyi; } && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser test..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
			|| echo "warning: could not install chromium"; \
	fi

# Unit tests, then nbval over the committed notebooks (their stored outputs must reproduce,
# modulo tests/nbval_sanitize.cfg). No notebooks yet is not a failure; a failing notebook is.
# The exercise checks record nothing here (DLI_SEQ_PROGRESS=off): tests/conftest.py points the unit
# tests at a temporary progress file, and tests/test_progress.py records through a real kernel.
test: $(STAMP) browser-deps
	DLI_SEQ_MODELS=offline OMP_NUM_THREADS=1 $(PY) -m pytest tests
	@if find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | grep -q .; then \
		echo "DLI_SEQ_MODELS=offline DLI_SEQ_PROGRESS=off $(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks -p no:cacheprovider"; \
		DLI_SEQ_MODELS=offline DLI_SEQ_PROGRESS=off OMP_NUM_THREADS=1 $(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks -p no:cacheprovider; \
	else \
		echo "No notebooks under notebooks/ yet: skipping nbval."; \
	fi

# The generation core (decoding, streaming, models) on the OLDEST versions pyproject.toml allows
# (requirements/oldest.txt: torch 2.11, transformers 5.17, ...), in a separate venv; CI runs it after
# `make test`. torch 2.11.0 is PyPI's CUDA build: about 2.6 GB to download, a few minutes to install.
OLDEST := .venv-oldest
test-oldest:
	@test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet -r requirements/oldest.txt
	$(OLDEST)/bin/python -m pip install --quiet --no-deps -e .
	DLI_SEQ_MODELS=offline OMP_NUM_THREADS=1 $(OLDEST)/bin/python -m pytest -p no:cacheprovider \
		tests/test_decoding.py tests/test_streaming.py tests/test_models.py

# On a CUDA machine (issue 13): the generation core on cuda in fp32 and bf16 (greedy ids ==
# generate(), real-size random-init models and the stand-ins; the fast path's CUDA graph), the
# widgets driven from Python on cuda, then every notebook under nbval on cuda with the stand-ins
# (outputs compared), with each notebook's peak GPU memory. Reports go to $(GPU_REPORT)/.
# On an offline GPU image: make install-offline, then make test-gpu GPU_PY=python3 (no .venv).
# Not yet recorded on a GPU (see tests/README.md); tools/gpu_check.sh wraps it as one script run.
GPU_PY     ?=
GPU_REPORT ?= build/gpu
TEST_GPU_PY = $(if $(GPU_PY),$(GPU_PY),$(PY))
test-gpu: $(if $(GPU_PY),,$(STAMP))
	@$(TEST_GPU_PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'make test-gpu needs a CUDA GPU: torch.cuda.is_available() is False')"
	@mkdir -p $(GPU_REPORT)
	DLI_SEQ_MODELS=offline $(TEST_GPU_PY) -m pytest tests/gpu tests/test_fastpath.py tests/test_decoding.py \
		tests/test_streaming.py tests/test_inputs.py tests/test_widgets.py tests/test_figures_live.py -p no:cacheprovider --junitxml=$(GPU_REPORT)/core.xml
	DLI_SEQ_MODELS=offline DLI_SEQ_PROGRESS=off PYTHONPATH=tests/gpu DLI_SEQ_GPU_MEMORY_REPORT=$(GPU_REPORT)/notebook_memory.json \
		$(TEST_GPU_PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p nbval_gpu_memory notebooks -p no:cacheprovider --junitxml=$(GPU_REPORT)/notebooks.xml

figures: $(STAMP)
	$(PY) tools/make_figures.py

# A classroom on JupyterHub (README "Running a workshop"). Needs root: every learner becomes a Unix user.
#   make workshop          install into $(WORKSHOP_PREFIX) (a minute or two, first time), start the hub
#   make workshop-models   download the lesson models once for everyone (needs the hub's network)
#   make workshop-stop     stop the hub, the proxy and every learner's server (Ctrl-C stops the hub only)
#   make test-workshop     the classroom's load test: real users, hub restart, culler, a real browser
# Options are environment variables, listed at the top of workshop/jupyterhub_config.py
# (e.g. DLI_SEQ_HUB_IP=0.0.0.0 DLI_SEQ_SIGNUP_CODE=... make workshop).
WORKSHOP_PREFIX ?= /opt/dli-seq
workshop-install:
	bash workshop/install.sh $(WORKSHOP_PREFIX)

workshop: workshop-install
	cd $(WORKSHOP_PREFIX)/hub && DLI_SEQ_WORKSHOP=$(WORKSHOP_PREFIX) \
		$(WORKSHOP_PREFIX)/venv/bin/jupyterhub -f $(CURDIR)/workshop/jupyterhub_config.py

workshop-stop:
	bash workshop/stop.sh $(WORKSHOP_PREFIX)

# The four lesson models, downloaded once into the shared read-only folder every learner's kernel reads.
workshop-models: workshop-install
	$(WORKSHOP_PREFIX)/venv/bin/python -m dli_seq fetch --dir $(WORKSHOP_PREFIX)/models

# The load test installs its own classroom under /opt/dli-seq-test (never touches a real one).
test-workshop: $(STAMP) browser-deps
	bash workshop/install.sh /opt/dli-seq-test
	DLI_SEQ_WORKSHOP=/opt/dli-seq-test $(PY) -m pytest -p no:cacheprovider -W ignore::pytest.PytestUnknownMarkWarning -v workshop/tests

standins: $(STAMP)
	$(PY) -m dli_seq.standins.train

benchmark: $(STAMP)
	$(PY) benchmarks/decode.py

clean:
	rm -rf build .pytest_cache

# ---- Offline GPU images (issue 13): Python 3.12, a CUDA torch already installed, no network ----
# 1. Where PyPI is reachable: `make wheelhouse` downloads the kit's pinned dependencies, torch
#    left out, with everything they need, as cp312 manylinux x86_64 wheels into wheelhouse/.
# 2. Copy the repository (with wheelhouse/) to the GPU image and run `make install-offline`:
#    pip --no-index from wheelhouse/, torch pinned to the image's own build, the kit --no-deps.
#    OFFLINE_PY is the interpreter that holds the image's torch (to keep the image's environment
#    as it is, make a venv with --system-site-packages first and point OFFLINE_PY at it).
WHEELHOUSE      ?= wheelhouse
WHEEL_PYTHON    ?= 3.12
WHEEL_PLATFORMS ?= manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_26_x86_64 manylinux_2_24_x86_64 \
                   manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux2010_x86_64 manylinux1_x86_64
OFFLINE_PY      ?= python3

wheelhouse:
	@mkdir -p $(WHEELHOUSE)
	$(PYTHON) tools/offline.py requirements > $(WHEELHOUSE)/requirements.txt
	$(PYTHON) -m pip download --only-binary=:all: --implementation cp --python-version $(WHEEL_PYTHON) \
		$(addprefix --platform ,$(WHEEL_PLATFORMS)) -d $(WHEELHOUSE) \
		-r $(WHEELHOUSE)/requirements.txt "setuptools>=77"
	@du -sh $(WHEELHOUSE)

install-offline:
	$(OFFLINE_PY) tools/offline.py install --wheelhouse $(WHEELHOUSE)

# For a GPU machine with no network that receives the repository plus at most 64 MiB of wheels
# (about 38 MiB of the repository are the stand-ins): .whl/device-wheels.tar.xz holds only the
# wheels its CUDA image lacks (tests/gpu/image_packages.txt) plus the kit's key pins, no JupyterLab
# or playwright (nbval needs neither), re-packed with xz (~20 MiB). tools/gpu_check.sh installs from it.
wheelhouse-device: wheelhouse
	rm -rf .whl
	$(PYTHON) tools/offline.py subset --wheelhouse $(WHEELHOUSE) --out .whl \
		--image-has tests/gpu/image_packages.txt --without jupyterlab playwright \
		--python-version $(WHEEL_PYTHON) $(addprefix --platform ,$(WHEEL_PLATFORMS)) --pack
	@du -sh .whl
