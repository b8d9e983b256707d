#!/usr/bin/env python
import os
import sys

from biosync.env import exit_on_config_error


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biosync.settings")
    from django.core.management import execute_from_command_line

    with exit_on_config_error():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
