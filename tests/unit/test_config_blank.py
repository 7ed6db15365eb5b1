"""cripto_pipeline.config: a number variable set to blanks is as if unset, while text that is no number is
refused (issue 16)."""

from __future__ import annotations

import pytest

from cripto_pipeline import config
from cripto_pipeline.exceptions import ConfigurationError


@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_a_blank_number_variable_means_its_default(blank):
    settings = config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "train", "START_MAX_WAIT_SECONDS": blank,
                                                    "START_MAX_ATTEMPTS": blank})
    assert (settings.start_max_wait_seconds, settings.start_max_attempts) == (21600.0, 1000)


def test_a_number_variable_that_is_no_number_is_refused_by_name():
    with pytest.raises(ConfigurationError) as refused:
        config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "train", "START_MAX_WAIT_SECONDS": "6h"})
    assert str(refused.value) == "START_MAX_WAIT_SECONDS='6h' is not a number."


def test_a_count_variable_that_is_no_whole_number_is_refused_as_such():
    with pytest.raises(ConfigurationError) as refused:
        config.GlueTriggerSettings.from_env({"GLUE_JOB_NAME": "train", "START_MAX_ATTEMPTS": "2.5"})
    assert str(refused.value) == "START_MAX_ATTEMPTS='2.5' is not a whole number."
