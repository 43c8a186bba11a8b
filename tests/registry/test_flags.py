import pytest

from apps.registry.flags import workspace_flags


def flags_of(run_config=None, exec_config=None):
    return workspace_flags(run_config=run_config or {}, exec_config=exec_config or {})


def test_user_1000_is_not_flagged_but_root_is():
    assert flags_of({"user": 1000}) == []
    assert flags_of({"user": "1000"}) == []
    assert flags_of({"user": "root"}) == [{"property": "user", "flag": "user", "source": "run_config"}]
    assert flags_of({"user": 0}) == [{"property": "user", "flag": "user", "source": "run_config"}]


def test_privileged_true_is_flagged_and_false_is_not():
    assert flags_of({"privileged": True}) == [{"property": "privileged", "flag": "privileged", "source": "run_config"}]
    assert flags_of({"privileged": False}) == []


def test_ignored_and_safe_properties_are_not_flagged():
    config = {"hostname": "kasm", "entrypoint": ["/bin/sh"], "environment": {"A": "1"}, "shm_size": "1g"}
    assert flags_of({**config, "name": "x", "labels": {}, "pids_limit": 100, "mem_limit": "1g"}) == []


def test_any_other_property_gets_the_generic_flag():
    flags = flags_of({"security_opt": ["seccomp=unconfined"], "cap_add": ["SYS_ADMIN"], "network_mode": "host"})
    assert flags == [
        {"property": "security_opt", "flag": "flag_property", "source": "run_config"},
        {"property": "cap_add", "flag": "flag_property", "source": "run_config"},
        {"property": "network_mode", "flag": "flag_property", "source": "run_config"},
    ]


def test_exec_hooks_running_as_root_or_privileged_are_flagged():
    exec_config = {
        "first_launch": {"user": "root", "cmd": "apt-get install -y vim"},
        "go": {"cmd": "echo go"},
        "assign": {"cmd": "mount /x", "privileged": True},
        "session_start": {"cmd": "id", "user": "1000"},
    }
    assert flags_of(exec_config=exec_config) == [
        {"property": "first_launch", "flag": "user", "source": "exec_config"},
        {"property": "assign", "flag": "privileged", "source": "exec_config"},
    ]


def test_a_workspace_with_several_flags_lists_each_once_per_property():
    flags = flags_of(
        {"user": "root", "privileged": True, "devices": ["/dev/kvm"], "hostname": "x"},
        {"first_launch": {"user": "root", "cmd": "true"}},
    )
    assert [(flag["property"], flag["flag"], flag["source"]) for flag in flags] == [
        ("user", "user", "run_config"),
        ("privileged", "privileged", "run_config"),
        ("devices", "flag_property", "run_config"),
        ("first_launch", "user", "exec_config"),
    ]


@pytest.mark.parametrize("value", [0, -1, "0", "-1", True, None, "lots"])
def test_a_limit_that_lifts_instead_of_limiting_is_flagged(value):
    assert flags_of({"pids_limit": value}) == [
        {"property": "pids_limit", "flag": "flag_property", "source": "run_config"}
    ]


def test_positive_limits_are_not_flagged():
    assert flags_of({"pids_limit": 256, "mem_limit": "2g", "read_only": True, "cpu_shares": 512}) == []
