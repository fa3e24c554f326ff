"""`streamlit run` with every script run profiled (cProfile), for `bench.first_paint --profile`.

Run: IKM_PROFILE_DIR=DIR python -m bench.profiled_streamlit app.py [streamlit options]
Each script run writes DIR/runNNN.prof and a line in DIR/runs.txt: number, milliseconds, page
(its url path). Read one with `python -m pstats DIR/run003.prof` (sort cumulative, stats 40).
Streamlit 1.67 internals (its exec_func_with_error_handling): a newer Streamlit may need a change.
"""

import cProfile
import itertools
import os
import sys
import threading
import time
from pathlib import Path


def install(folder: Path) -> None:
    from streamlit.runtime.scriptrunner import exec_code, script_runner

    folder.mkdir(parents=True, exist_ok=True)
    numbers = itertools.count()
    lock = threading.Lock()
    original = exec_code.exec_func_with_error_handling

    def profiled(func, ctx):
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        try:
            return original(func, ctx)
        finally:
            profile.disable()
            elapsed = time.perf_counter() - started
            try:
                page = ctx.pages_manager.get_pages().get(ctx.page_script_hash, {})
                name = page.get("url_pathname") or page.get("page_name") or "?"
            except Exception:  # noqa: BLE001  (the name is a convenience)
                name = "?"
            with lock:
                number = next(numbers)
                profile.dump_stats(folder / f"run{number:03d}.prof")
                with open(folder / "runs.txt", "a", encoding="utf-8") as log:
                    log.write(f"{number:03d} {elapsed * 1000:7.0f} ms {name}\n")

    exec_code.exec_func_with_error_handling = profiled
    script_runner.exec_func_with_error_handling = profiled


def main() -> None:
    install(Path(os.environ["IKM_PROFILE_DIR"]))
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    streamlit_main()


if __name__ == "__main__":
    main()
