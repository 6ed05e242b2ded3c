"""The folder that `claude-logging run` puts first on PYTHONPATH; it holds only `sitecustomize.py`.

Python imports `sitecustomize` at startup from the first folder of `sys.path` that has one, so a
process started with this folder on PYTHONPATH runs ours, which instruments the process when
`CLAUDE_LOGGING_INSTRUMENT` says so and then runs the `sitecustomize` it hides, if any.
"""
