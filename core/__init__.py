"""The neutral core every layer may use and that uses none of them.

`messages` (what channels and handlers exchange), `context` (what every handler and job gets),
`settings` (the one settings object, from NHACVIEC_* variables) and `clock` (injectable time).
"""
