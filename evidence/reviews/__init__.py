"""Reviews of the policies (CEK-11 IG-5, IG-6): periodic and change-triggered reviews, significant changes,
effectiveness evaluations, review due dates and the reminders to policy owners.

- ``schedule``: when a review is due and which reminder goes out when (all the date arithmetic);
- ``models``: reviews, significant changes, evaluations, the reminder log;
- ``services``: the writes (record a review, a change, an evaluation; keep due dates current; send reminders);
- ``selectors``: the reads (what a policy's due date depends on, open changes, change and evaluation lists);
- ``forms``, ``views``, ``urls``: the pages; ``tasks``: the daily reminder task.
"""
