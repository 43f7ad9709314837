"""Child processes: the ``Process`` object and spawning (``_process``), waiting for a
child to exit (``_exit``), and running one under supervision (``_run``)."""
