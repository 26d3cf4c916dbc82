import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdhr.settings")
application = get_wsgi_application()

from crowdhr.warm import warm_up  # noqa: E402  # Django must be set up first

warm_up()
