"""The model bundle: AML's `models/NAME/VERSION/` layout, AZUREML_MODEL_DIR laid out as AML sets it (the AML docs'
single- and multi-model examples, served unchanged), and `models add`/`list` that never write outside `models/`."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from targets import CONFIG_PREFIXES, ROOT, InProcess, Request

from adapter import models
from adapter.models import BundleError
from adapter.settings import Settings

APPS = Path(__file__).resolve().parent / "apps"


def make_app(tmp_path: Path, app: str) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(APPS / app / "score.py", root / "score.py")
    return root


def pickled(folder: Path, name: str, value: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(pickle.dumps(value))
    return path


def serve_once(app: Path) -> dict[str, object]:
    target = InProcess({"AML_APP_ROOT": str(app), "AZUREML_ENTRY_SCRIPT": "score.py"})
    try:
        reply = target.send(Request("POST", body=b"{}"))
    finally:
        target.stop()
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[return-value]


def cli(app: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "adapter", "models", *args],
        cwd=ROOT,
        env={**env, "AML_APP_ROOT": str(app)},
        capture_output=True,
        text=True,
    )


def test_one_model_makes_its_version_folder_the_model_dir(tmp_path: Path) -> None:
    app = make_app(tmp_path, "aml_docs_single")
    source = pickled(tmp_path / "trained", "sklearn_regression_model.pkl", {"weights": [1, 2]})
    models.add(app, "sklearn_regression_model", source)
    answer = serve_once(app)
    assert answer == {
        "model": {"weights": [1, 2]},
        "model_dir": str(app / "models" / "sklearn_regression_model" / "1"),
    }


def test_several_models_make_the_models_folder_the_model_dir(tmp_path: Path) -> None:
    app = make_app(tmp_path, "aml_docs_multi")
    models.add(app, "my_first_model", pickled(tmp_path / "a", "my_first_model.pkl", "first"))
    models.add(app, "my_second_model", pickled(tmp_path / "b", "my_second_model.pkl", "second"), version=2)
    answer = serve_once(app)
    bundle = app / "models"
    assert answer == {
        "models": ["first", "second"],
        "found": {
            "first": str(bundle / "my_first_model" / "1" / "my_first_model.pkl"),
            "second": str(bundle / "my_second_model" / "2" / "my_second_model.pkl"),
        },
        "model_dir": str(bundle),
    }


def test_two_versions_of_one_model_are_several(tmp_path: Path) -> None:
    for version in ("1", "2"):
        pickled(tmp_path / "models" / "m" / version, "m.pkl", version)
    assert models.default_model_dir(tmp_path) == tmp_path / "models"


def test_the_users_model_dir_wins_and_no_bundle_leaves_it_unset(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("")
    assert Settings.from_env({"AML_APP_ROOT": str(tmp_path)}).model_dir is None
    pickled(tmp_path / "models" / "m" / "1", "m.pkl", 1)
    env = {"AML_APP_ROOT": str(tmp_path), "AZUREML_MODEL_DIR": "/mnt/models"}
    assert Settings.from_env(env).model_dir == Path("/mnt/models")


def test_junk_and_links_out_do_not_count_as_models(tmp_path: Path) -> None:
    bundle = tmp_path / "models"
    pickled(bundle / "real" / "1", "real.pkl", 1)
    (bundle / "README.md").write_text("notes")
    (bundle / ".DS_Store").write_text("")
    (bundle / "real" / "latest").mkdir()
    outside = pickled(tmp_path / "elsewhere" / "1", "x.pkl", 1).parent.parent
    (bundle / "linked").symlink_to(outside)
    assert models.default_model_dir(tmp_path) == bundle / "real" / "1"
    scanned = models.scan(bundle)
    assert [(e.model.name, e.model.version, e.contents) for e in scanned.versions] == [("real", 1, ("real.pkl",))]
    assert scanned.problems == (
        "models/README.md: not a folder; models go in models/MODEL_NAME/VERSION/.",
        "models/linked: a symlink leading outside models/; it is refused.",
        "models/real/latest: not a version; version folders are whole numbers from 1.",
    )


def test_symlinks_out_of_a_version_folder_are_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "models"
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (bundle / "m" / "1").mkdir(parents=True)
    (bundle / "m" / "1" / "model.pkl").symlink_to(secret)
    (bundle / "m" / "2").symlink_to(tmp_path)
    pickled(bundle / "inside" / "1", "a.pkl", 1)
    (bundle / "inside" / "1" / "alias.pkl").symlink_to(bundle / "inside" / "1" / "a.pkl")
    scanned = models.scan(bundle)
    assert scanned.problems == (
        "models/m/1: symlinks leading outside models/ are refused: model.pkl.",
        "models/m/2: a symlink leading outside models/; it is refused.",
    )
    assert [e.model.name for e in scanned.versions] == ["inside"]  # a link that stays inside is fine
    assert scanned.warnings == (
        "models/inside/1 holds 2 entries (a.pkl, alias.pkl): Model.get_model_path wants exactly one.",
    )


def test_add_copies_files_and_folders_under_their_own_names_at_the_next_version(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    first = models.add(app, "clf", pickled(tmp_path / "v1", "model.pkl", 1))
    folder = tmp_path / "export"
    pickled(folder / "sub", "weights.bin", 2)
    (folder / "link.bin").symlink_to(folder / "sub" / "weights.bin")
    second = models.add(app, "clf", folder)
    pinned = models.add(app, "clf", folder, version="7")
    after = models.add(app, "clf", pickled(tmp_path / "v8", "model.pkl", 8))
    assert [(e.model.version, e.contents) for e in (first, second, pinned, after)] == [
        (1, ("model.pkl",)),
        (2, ("export",)),
        (7, ("export",)),
        (8, ("model.pkl",)),
    ]
    copied = app / "models" / "clf" / "2" / "export"
    assert pickle.loads((copied / "sub" / "weights.bin").read_bytes()) == 2
    assert not (copied / "link.bin").is_symlink()  # copied as the file it points to: nothing links out
    assert pickle.loads((copied / "link.bin").read_bytes()) == 2
    assert sorted(os.listdir(app / "models" / "clf")) == ["1", "2", "7", "8"]  # no staging folder left


def unlistable(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """Make listing `folders` fail as an unreadable folder does for a user other than root (tests run as root, who
    reads everything, so chmod would prove nothing)."""
    real = os.scandir
    refused = {str(folder) for folder in folders}

    def scandir(path: str | os.PathLike[str] | int = ".") -> object:
        if not isinstance(path, int) and os.fspath(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("unreadable", ["sub", "."])
def test_add_refuses_a_model_folder_it_cannot_read_all_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreadable: str
) -> None:
    """An unreadable subfolder (or the folder itself) was skipped without a word: the add reported a partial or an
    empty model as bundled."""
    app = tmp_path / "app"
    app.mkdir()
    folder = tmp_path / "export"
    pickled(folder, "config.pkl", 1)
    pickled(folder / "sub", "weights.pkl", 2)
    unlistable(monkeypatch, folder / unreadable)
    shown = "./" if unreadable == "." else "sub/"
    with pytest.raises(BundleError, match=rf"The model folder {folder} has folders that cannot be read: {shown} "):
        models.add(app, "clf", folder)
    assert not (app / "models").exists()


def test_add_never_overwrites(tmp_path: Path) -> None:
    source = pickled(tmp_path / "src", "model.pkl", 1)
    models.add(tmp_path, "m", source)
    with pytest.raises(BundleError, match=r"models/m/1 already exists; models are never overwritten"):
        models.add(tmp_path, "m", pickled(tmp_path / "other", "model.pkl", 2), version=1)
    assert pickle.loads((tmp_path / "models" / "m" / "1" / "model.pkl").read_bytes()) == 1


@pytest.mark.parametrize("name", ["../evil", "..", ".", "a/b", "/etc", "a\\b", "", ".hidden", "x" * 256, "na me"])
def test_add_refuses_names_that_are_not_model_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(BundleError, match="is not valid: like AML's"):
        models.add(tmp_path, name, pickled(tmp_path / "src", "m.pkl", 1))
    assert not (tmp_path / "models").exists() or os.listdir(tmp_path / "models") == []
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("version", ["../1", "/1", "0", "-1", "1.5", "01", "one", "1/2", ""])
def test_add_refuses_versions_that_are_not_whole_numbers(tmp_path: Path, version: str) -> None:
    with pytest.raises(BundleError, match="versions are whole numbers from 1"):
        models.add(tmp_path, "m", pickled(tmp_path / "src", "m.pkl", 1), version=version)


def test_add_refuses_a_model_folder_linking_out_and_a_source_holding_the_bundle(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "models").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (app / "models" / "m").symlink_to(outside)
    with pytest.raises(BundleError, match="models/m exists but is not a folder inside models/"):
        models.add(app, "m", pickled(tmp_path / "src", "m.pkl", 1))
    assert os.listdir(outside) == []
    with pytest.raises(BundleError, match="contains models/all: a folder cannot be added into itself"):
        models.add(app, "all", app)
    with pytest.raises(BundleError, match="is not a file or folder"):
        models.add(app, "none", tmp_path / "missing.pkl")


def test_cli_add_and_list(tmp_path: Path) -> None:
    source = pickled(tmp_path / "src", "model.pkl", list(range(1000)))
    added = cli(tmp_path, "add", "iris", str(source))
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == [
        f"Added models/iris/1/model.pkl ({models.human_size(source.stat().st_size)}).",
        "AZUREML_MODEL_DIR defaults to models/iris/1 (one model, one version).",
    ]
    assert cli(tmp_path, "add", "iris", str(source), "--version", "3").returncode == 0
    listed = cli(tmp_path, "list")
    assert listed.returncode == 0 and listed.stderr == ""
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "SIZE", "CONTENT"]
    assert [line.split()[:2] + line.split()[-1:] for line in lines[1:3]] == [
        ["iris", "1", "model.pkl"],
        ["iris", "3", "model.pkl"],
    ]
    assert lines[3] == "AZUREML_MODEL_DIR defaults to models/ (2 model versions)."
    (tmp_path / "latest.pkl").symlink_to(source)  # a link is copied as what it leads to, and says so
    linked = cli(tmp_path, "add", "iris", str(tmp_path / "latest.pkl"), "--version", "4")
    assert linked.returncode == 0, linked.stderr
    size = models.human_size(source.stat().st_size)
    assert linked.stdout.splitlines()[0] == (
        f"Added models/iris/4/latest.pkl ({size}, from {source}, where {tmp_path / 'latest.pkl'} leads)."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "../escape", "{src}"], "error: Model name '../escape' is not valid"),
        (["add", "m", "{src}", "--version", "../2"], "error: Model version '../2' is not valid"),
        (["add", "m", "/no/such/model.pkl"], "error: /no/such/model.pkl is not a file or folder"),
    ],
)
def test_cli_errors_are_one_line_on_stderr(tmp_path: Path, args: list[str], message: str) -> None:
    source = pickled(tmp_path / "src", "m.pkl", 1)
    done = cli(tmp_path, *[a.format(src=source) for a in args])
    assert done.returncode == 1
    assert done.stdout == "" and done.stderr.startswith(message) and "Traceback" not in done.stderr
    assert not (tmp_path / "escape").exists()


def test_cli_list_of_an_empty_bundle_says_how_to_add(tmp_path: Path) -> None:
    listed = cli(tmp_path, "list")
    assert listed.returncode == 0
    assert "Add one with: python -m adapter models add NAME PATH" in listed.stdout


def test_add_refuses_a_folder_holding_its_own_destination(tmp_path: Path) -> None:
    pickled(tmp_path / "models" / "m" / "1", "m.pkl", 1)
    with pytest.raises(BundleError, match="contains models/m: a folder cannot be added into itself"):
        models.add(tmp_path, "m", tmp_path / "models" / "m")
    assert os.listdir(tmp_path / "models" / "m") == ["1"]
    copied = models.add(tmp_path, "other", tmp_path / "models" / "m")  # another model's folder is fine
    assert copied.contents == ("m",)


def test_add_refuses_to_write_through_a_models_folder_that_is_a_symlink(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (app / "models").symlink_to(outside)
    with pytest.raises(BundleError, match="models is a symlink; models are only written into a real models/ folder"):
        models.add(app, "m", pickled(tmp_path / "src", "m.pkl", 1))
    assert os.listdir(outside) == []
    done = cli(app, "add", "m", str(tmp_path / "src" / "m.pkl"))
    assert done.returncode == 1 and "is a symlink" in done.stderr and os.listdir(outside) == []


def test_add_refuses_a_model_folder_that_is_a_symlink_even_inside_the_bundle(tmp_path: Path) -> None:
    pickled(tmp_path / "models" / "real" / "1", "m.pkl", 1)
    (tmp_path / "models" / "alias").symlink_to(tmp_path / "models" / "real")
    with pytest.raises(BundleError, match="models/alias exists but is not a folder inside models/"):
        models.add(tmp_path, "alias", pickled(tmp_path / "src", "m.pkl", 2))
    assert os.listdir(tmp_path / "models" / "real") == ["1"]


def test_replace_swaps_the_highest_version_by_default_and_a_given_one(tmp_path: Path) -> None:
    models.add(tmp_path, "m", pickled(tmp_path / "v1", "m.pkl", 1))
    models.add(tmp_path, "m", pickled(tmp_path / "v2", "m.pkl", 2))
    replaced = models.add(tmp_path, "m", pickled(tmp_path / "new", "model.pkl", "new"), replace=True)
    assert (replaced.model.version, replaced.contents) == (2, ("model.pkl",))  # the old m.pkl is gone
    models.add(tmp_path, "m", pickled(tmp_path / "one", "m.pkl", "one"), version=1, replace=True)
    assert pickle.loads((tmp_path / "models" / "m" / "1" / "m.pkl").read_bytes()) == "one"
    assert sorted(os.listdir(tmp_path / "models" / "m")) == ["1", "2"]  # nothing left aside or staged
    first = models.add(tmp_path, "fresh", pickled(tmp_path / "f", "f.pkl", 1), replace=True)
    assert first.model.version == 1  # nothing to replace: an ordinary add


def test_remove_a_version_or_a_whole_model_and_name_what_is_bundled(tmp_path: Path) -> None:
    for version in ("1", "2"):
        pickled(tmp_path / "models" / "m" / version, "m.pkl", version)
    pickled(tmp_path / "models" / "other" / "1", "o.pkl", 1)
    with pytest.raises(BundleError, match=r"models/m has no version 3; its versions are: 1, 2\."):
        models.remove(tmp_path, "m", 3)
    assert [v.version for v in models.remove(tmp_path, "m", "1")] == [1]
    assert os.listdir(tmp_path / "models" / "m") == ["2"]
    assert [v.version for v in models.remove(tmp_path, "m")] == [2]
    assert os.listdir(tmp_path / "models") == ["other"]
    with pytest.raises(BundleError, match=r"models/m is not bundled; the bundled model versions are: other 1\."):
        models.remove(tmp_path, "m")
    with pytest.raises(BundleError, match="is not valid: like AML's"):
        models.remove(tmp_path, "..")


def test_remove_never_deletes_through_a_symlink(tmp_path: Path) -> None:
    outside = pickled(tmp_path / "outside" / "1", "x.pkl", 1).parent.parent
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "linked").symlink_to(outside)
    with pytest.raises(BundleError, match="models/linked exists but is not a folder inside models/"):
        models.remove(tmp_path, "linked")
    app = tmp_path / "app"
    app.mkdir()
    (app / "models").symlink_to(tmp_path / "models")
    with pytest.raises(BundleError, match="is a symlink"):
        models.remove(app, "linked")
    assert os.listdir(outside / "1") == ["x.pkl"]


def test_cli_warns_loudly_when_an_add_or_remove_moves_the_model_dir(tmp_path: Path) -> None:
    source = pickled(tmp_path / "src", "model.pkl", 1)
    assert cli(tmp_path, "add", "a", str(source)).stderr == ""  # the first model: nothing moved
    second = cli(tmp_path, "add", "b", str(source))
    assert second.returncode == 0
    assert second.stderr.startswith(
        "WARNING: AZUREML_MODEL_DIR changes from models/a/1 to models/: with 2 model versions bundled it is the "
        "folder of all models, as on AML, so a script that opens a file in AZUREML_MODEL_DIR no longer finds it."
    )
    removed = cli(tmp_path, "remove", "b")
    assert removed.returncode == 0 and removed.stdout.startswith("Removed models/b (versions 1).")
    assert removed.stderr.startswith("WARNING: AZUREML_MODEL_DIR changes from models/ to models/a/1")
    replaced = cli(tmp_path, "add", "a", str(source), "--replace")
    assert replaced.returncode == 0 and replaced.stderr == ""
    assert replaced.stdout.startswith("Replaced models/a/1/model.pkl")
    missing = cli(tmp_path, "remove", "a", "7")
    assert missing.returncode == 1 and missing.stderr == "error: models/a has no version 7; its versions are: 1.\n"


def sample_copy(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "score.py", app / "score.py")
    shutil.copytree(ROOT / "models", app / "models")
    return app


def test_the_bundled_sample_is_recognised() -> None:
    # What the warnings below rely on: if the sample's opening changes, SAMPLE_SCRIPT_MARKS must follow.
    assert models.is_sample_script(ROOT / "score.py")
    assert models.sample_model(ROOT) == ROOT / "models" / "iris-classifier"
    assert models.sample_left_beside(ROOT, ROOT / "score.py") == []


def test_the_sample_left_beside_the_users_script_and_model_is_warned_about(tmp_path: Path) -> None:
    app = sample_copy(tmp_path)
    (app / "predict.py").write_text("def init(): pass\ndef run(data): return data\n")
    added = cli(app, "add", "mine", str(pickled(tmp_path / "src", "mine.pkl", 1)))
    assert added.returncode == 0
    warnings = [line for line in added.stderr.splitlines() if line.startswith("WARNING:")]
    assert warnings[0].startswith("WARNING: AZUREML_MODEL_DIR changes from models/iris-classifier/1 to models/")
    # The user's score.py replaced the sample's, but the sample's model is still there.
    (app / "score.py").write_text("def init(): pass\ndef run(data): return data\n")
    assert models.sample_left_beside(app, app / "score.py") == [
        "models/iris-classifier, the sample's model, is still bundled beside yours: it would be published, and with "
        "it AZUREML_MODEL_DIR is models/ instead of your model's folder. Remove it: python -m adapter models remove "
        "iris-classifier"
    ]
    shutil.copy(ROOT / "score.py", app / "score.py")
    beside = models.sample_left_beside(app, app / "predict.py")
    assert beside[0] == (
        "score.py is still the bundled sample (the iris classifier), beside your entry script predict.py: it would "
        "be published too. Delete it."
    )
    removed = cli(app, "remove", "iris-classifier")
    assert removed.returncode == 0 and "AZUREML_MODEL_DIR changes from models/ to models/mine/1" in removed.stderr
    (app / "score.py").unlink()
    assert models.sample_left_beside(app, app / "predict.py") == []


def test_a_fifo_named_like_the_sample_script_is_not_opened(tmp_path: Path) -> None:
    """Issue 21 point 11: telling the sample score.py apart read it with open(), which waits forever on a FIFO."""
    import threading

    os.mkfifo(tmp_path / "score.py")
    found: list[bool] = []
    worker = threading.Thread(target=lambda: found.append(models.is_sample_script(tmp_path / "score.py")), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # frees the thread that hung in open()
        os.close(os.open(tmp_path / "score.py", os.O_WRONLY | os.O_NONBLOCK))
    assert found == [False]
