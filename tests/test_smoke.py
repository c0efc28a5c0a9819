from django.conf import settings


def test_suite_runs_in_test_mode():
    assert settings.RAPPORT_ENV == "test"
    assert settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend")
