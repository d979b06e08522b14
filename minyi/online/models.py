"""The online studio's own records (issue 6): what a resident who reported online needs
to follow their case, kept beside the case so that minyi.cases stays unchanged.

Nothing here is readable by staff pages; codes are stored only as keyed hashes."""

from __future__ import annotations

from django.db import models

from minyi.cases.models import Answer, Case, Satisfaction


class OnlineReport(models.Model):
    """A case its reporter follows online: sent through the online studio
    (`sent_online`), or registered at a studio (in person, by phone, through the API)
    and followed by its reporter, with a progress code the studio gave them or a
    one-time code sent to the phone on the case. It holds only the hash of the progress
    code (blank until one is given): the phone is on the case, and a code request is
    matched against the case's phone as it is then."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="online_report")
    sent_online = models.BooleanField("网上提交", default=True)
    progress_code_hash = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    withdraw_until = models.DateTimeField("可撤回至")
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = "网上查询"
        verbose_name_plural = "网上查询"

    def __str__(self) -> str:
        return str(self.case)


class OneTimeCode(models.Model):
    """A code sent to the reporter's phone instead of the progress code. Only its keyed
    hash is kept; it expires, can be used once and allows a few wrong tries."""

    report = models.ForeignKey(OnlineReport, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=16)
    sent = models.BooleanField(default=False)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["report", "created_at"], name="onetimecode_report")]

    def __str__(self) -> str:
        return f"{self.report} 验证码"


class ResidentRating(models.Model):
    """The reporter's own rating of an answer, given online. CM 12 has the street
    department rate jointly with the representative and the reporter; this is the
    reporter's part, shown on the case's timeline for that joint rating."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="resident_ratings")
    answer = models.OneToOneField(Answer, on_delete=models.PROTECT, related_name="resident_rating")
    rating = models.CharField("评价", max_length=24, choices=Satisfaction.choices)
    comment = models.TextField("意见", blank=True, max_length=1000)
    rated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "反映人网上评价"
        verbose_name_plural = "反映人网上评价"

    def __str__(self) -> str:
        return f"{self.case} {self.get_rating_display()}"
