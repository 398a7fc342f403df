import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from hypothesis import settings as _hyp_settings

# CI must be reproducible and not flaky on a loaded 2-core machine: a fixed seed, no deadline.
# MEDCODE_FUZZ_RANDOM=1 restores random exploration for local runs.
_hyp_settings.register_profile("medcode-ci", derandomize=True, deadline=None, database=None)
if not os.environ.get("MEDCODE_FUZZ_RANDOM"):
    _hyp_settings.load_profile("medcode-ci")
