"""``python -m dli_seq capacity``: the sums, the real models' sizes, the measured figures and the command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dli_seq import lesson
from dli_seq.capacity import arithmetic, measure, real, report
from dli_seq.capacity.arithmetic import GiB, MiB

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["04-1", "04-2", "04-3", "04-4", "04-5"]
# Parameter counts published for the real models (model cards and papers): what the configs must give.
PUBLISHED_PARAMETERS = {"gpt2": 124_439_808, "t5-base": 222_903_552, "flan-t5-large": 783_150_080,
                        "phi-1_5": 1_418_270_720}


# --- the sums ------------------------------------------------------------------------------------

def test_learners_that_fit_worked_by_hand():
    available = arithmetic.memory_for_learners(24 * GiB, 2 * GiB)
    assert available == 22 * GiB
    assert arithmetic.learners_that_fit(available, 500 * MiB) == 45  # 22528 MiB / 500 MiB = 45.06
    assert arithmetic.learners_that_fit(available, 22 * GiB) == 1
    assert arithmetic.learners_that_fit(available, 22 * GiB + 1) == 0


@pytest.mark.parametrize("total, reserve", [(2 * GiB, 2 * GiB), (GiB, 3 * GiB), (0, 0), (GiB, -1)])
def test_a_reserve_that_leaves_nothing_is_refused(total, reserve):
    with pytest.raises(ValueError, match="reserve|memory"):
        arithmetic.memory_for_learners(total, reserve)


def test_run_all_time_shares_the_cores():
    assert arithmetic.run_all_seconds(10, 6.0, 2) == pytest.approx(30.0)
    assert arithmetic.run_all_seconds(45, 8.0, 16) == pytest.approx(22.5)
    assert arithmetic.run_all_seconds(1, 6.0, 4) == pytest.approx(6.0)  # never faster than one run
    assert arithmetic.run_all_seconds(0, 6.0, 4) == 0.0
    with pytest.raises(ValueError):
        arithmetic.run_all_seconds(3, 6.0, 0)


def test_kv_cache_bytes_per_token_is_two_times_layers_times_width():
    # GPT-2: 12 layers, 768 wide (12 heads x 64): keys + values = 2 * 12 * 768 numbers per token.
    per_token_fp32 = 2 * 12 * 768 * 4
    assert arithmetic.kv_cache_bytes(12, 12, 64, 1, 1, 4) == per_token_fp32 == 73_728
    assert arithmetic.kv_cache_bytes(12, 12, 64, 1024, 3, 2) == per_token_fp32 * 1024 * 3 // 2


def test_tokens_bound_is_a_bound_for_the_shipped_tokenizers():
    """GPT-2's real vocabulary ships with the kit; the T5 stand-in's small vocabulary splits finer than T5's."""
    from transformers import AutoTokenizer

    prompts = [real.TRANSLATE, real.HELLO, "我喝咖啡。"] + [
        lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer) for e in lesson.EVAL_SET]
    for name in ("gpt2", "t5-base"):
        tokenizer = AutoTokenizer.from_pretrained(ROOT / "dli_seq" / "standins" / name)
        for prompt in prompts:
            assert len(tokenizer(prompt).input_ids) <= arithmetic.tokens_bound(prompt), (name, prompt)


# --- the real models -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETERS))
def test_the_published_configs_give_the_published_parameter_counts(name):
    model = real.real_model(name)
    assert model.parameters == PUBLISHED_PARAMETERS[name]
    assert model.weights_bytes("bf16") * 2 == model.weights_bytes("fp32") == 4 * PUBLISHED_PARAMETERS[name]


def test_kv_shapes_come_from_the_configs():
    for name in PUBLISHED_PARAMETERS:
        fields, model = real.published_config(name), real.real_model(name)
        if model.encoder_decoder:
            expected = (fields.get("num_decoder_layers", fields["num_layers"]), fields["num_heads"], fields["d_kv"])
        elif fields["model_type"] == "gpt2":
            expected = (fields["n_layer"], fields["n_head"], fields["n_embd"] // fields["n_head"])
        else:
            heads = fields["num_attention_heads"]
            expected = (fields["num_hidden_layers"], fields.get("num_key_value_heads") or heads,
                        fields["hidden_size"] // heads)
        assert (model.kv_layers, model.kv_heads, model.head_dim) == expected, name


def test_t5_counts_its_cross_attention_cache():
    t5 = real.real_model("t5-base")
    run = real.Run("t5-base", "test", prompt_tokens=10, new_tokens=5, batch=2)
    self_part = arithmetic.kv_cache_bytes(12, 12, 64, 6, 2, 4)
    cross_part = arithmetic.kv_cache_bytes(12, 12, 64, 10, 2, 4)
    assert real.run_kv_bytes(t5, run, "fp32") == self_part + cross_part


def test_each_section_holds_every_model_it_loads():
    assert tuple(real.SECTIONS) == report.SECTION_KEYS == tuple(SECTIONS)
    assert real.section_memory("04-5", "bf16").models == ("flan-t5-large", "phi-1_5")
    assert real.section_memory("04-4", "fp32").models == ("t5-base", "gpt2")
    for section in SECTIONS:
        mem = real.section_memory(section, "fp32")
        assert mem.weights_bytes == sum(real.real_model(n).weights_bytes("fp32") for n in mem.models)
        assert 0 < mem.kv_bytes < mem.weights_bytes / 10
    with pytest.raises(ValueError, match="04-1"):
        real.section_memory("4.1", "fp32")


def test_the_notebooks_load_the_models_the_sections_name():
    """SECTIONS is read from the notebooks: each notebook loads exactly the models its entry counts."""
    hub = {spec.standin: spec.hub_id for spec in real.REGISTRY.values()}
    for notebook in sorted((ROOT / "notebooks").glob("04-*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        loaded = set(re.findall(r'models\.load\("([^"]+)"\)', code))
        names = real.section_memory(measure.section_key(notebook), "fp32").models
        assert loaded == {hub[name] for name in names}, notebook.name


# --- measuring -------------------------------------------------------------------------------------

def test_measuring_a_notebook_reads_its_kernel(tmp_path):
    """A kernel that holds 150 MiB once shows a peak above it, and some CPU time (about 5 s)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("big = b'x' * (150 * 2**20)"), nbformat.v4.new_code_cell("del big")]
    path = tmp_path / "04-9_tiny.ipynb"
    nbformat.write(nb, path)
    result = measure.measure_notebook(path, timeout=60)
    assert result.error is None and result.cells_run == 2
    assert result.kernel_peak_bytes > 150 * MiB > result.kernel_rss_end_bytes > 0
    assert result.cpu_s > 0 and result.wall_s > 0
    assert measure.section_key(path) == "04-9"


def test_reading_a_process_that_is_gone_says_so():
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with pytest.raises(OSError, match="no process"):
        measure.read_process(int(finished.stdout))


def test_the_measured_figures_cover_every_notebook_and_are_plausible():
    data = report.load_measured()
    for key in SECTIONS:
        nb = data["notebooks"][key]
        assert nb["error"] is None, key
        assert nb["kernel_peak_bytes"] > 100 * 10**6, key  # torch + transformers alone are more
        assert nb["kernel_peak_bytes"] >= nb["kernel_rss_end_bytes"] > 0, key
        assert nb["cpu_s"] > 1 and nb["wall_s"] > 1 and nb["cells_run"] > 3, key
    assert 20 * MiB < data["server"]["rss_bytes"] < 2 * GiB
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["ram_bytes"] > GiB and machine["torch"] and machine["transformers"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", machine["date"])


def test_unusable_measured_figures_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="missing.*--measure"):
        report.load_measured(tmp_path / "none.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"server": {"rss_bytes": 1}, "notebooks": {"04-1": {"kernel_peak_bytes": 5}}}))
    with pytest.raises(ValueError, match="not usable.*--measure"):
        report.load_measured(broken)


# --- the command -----------------------------------------------------------------------------------

def _capacity(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", DLI_SEQ_MODELS="offline", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "dli_seq", "capacity", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_the_command_prints_a_number_per_notebook_from_the_figures():
    done = _capacity("--ram", "24", "--reserve", "2", "--gpu-memory", "80", "--cores", "8")
    assert done.returncode == 0, done.stderr
    data = report.load_measured()
    server = data["server"]["rss_bytes"]
    for key in SECTIONS:
        label = key.removeprefix("0").replace("-", ".")
        rows = re.findall(rf"^\s+{re.escape(label)}\s+(.*)$", done.stdout, re.MULTILINE)
        assert len(rows) == 3, (label, done.stdout)  # (a), (b), (c)
        held = [int(n) for row in rows for n in re.findall(r"this machine holds (\d+) learners", row)]
        assert len(held) == 4, rows  # (a), (b), (c) bf16 and fp32
        nb = data["notebooks"][key]
        expected = arithmetic.learners_that_fit(22 * GiB, server + nb["kernel_peak_bytes"])
        assert held[0] == expected
        seconds = arithmetic.run_all_seconds(expected, nb["cpu_s"], 8)
        assert f"about {seconds:.0f} s (estimate)" in rows[0]
        assert held[0] > held[1] and held[2] >= held[3]  # real models on CPU hold fewer; GPU fp32 <= bf16
    assert "not yet measured on a GPU" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--reserve", "64", "--ram", "16"], "reserve"),
    (["--ram", "lots"], "not a number"),
    (["--gpu-memory", "-1"], ">= 0"),
    (["--cores", "0"], "cores"),
])
def test_bad_input_is_one_clear_line(args, message):
    done = _capacity(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
