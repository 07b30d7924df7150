"""Settings package.

- ``base``       shared defaults, driven by environment variables
- ``local``      development (default for manage.py and pytest)
- ``production`` deployment (default for wsgi.py / asgi.py)

``modules.py`` is managed by git-quickscale; do not edit it by hand.
"""
