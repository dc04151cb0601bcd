"""gunicorn -c gunicorn.conf.py 'verify_portal.web:create_app()': the web service as the containers
run it (docker-compose.yml). The same options as `lianzheng serve`, read from the same LIANZHENG_*
settings."""

from verify_portal.web import logs
from verify_portal.web.server import options
from verify_portal.app.settings import Settings, private_files

private_files()  # the master's umask is the workers': every data file 0600
_settings = Settings.from_env()
globals().update(
    options("0.0.0.0", _settings.port, _settings.workers)
)  # in a container: every interface


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    logs.configure()
