"""DEL documents (001): the action plan, the internship agreement summary and report, the
end-of-path report of a person."""
