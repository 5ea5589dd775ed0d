"""The command line: ``app`` (the typer commands, ``pyimgsize``), ``plugin`` (``docker-pyimgsize``,
the Docker CLI plugin entry point) and ``install`` (``pyimgsize install-plugin``).

The only package that prints or exits: it parses arguments, calls ``pyimgsize.api``, renders and
returns an exit code. Nothing is imported here, so the plugin's metadata path stays light.
"""
