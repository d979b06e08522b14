"""What each schema in the OpenAPI document says to the people who write an
integration (a district's IT staff), in Chinese.

Without these the document showed the classes' docstrings, which are written for this
code's maintainers, in English ("The fields of the registration form…"), beside Chinese
field descriptions. The docstrings stay as they are; MinyiAPI.get_openapi_schema puts
these in their place, and tests/api/test_docs_page.py checks that every schema that has
a description has one in Chinese, so a new schema cannot bring English back."""

from __future__ import annotations

SCHEMA_TEXTS = {
    "CaseFilters": "社情民意列表的筛选条件，与“社情民意列表”页面相同。",
    "CaseIn": (
        "“社情民意登记表”的各项，按登记表的规则校验。必填：studio_id、representative_id"
        "（听取意见的党代表，须进驻该工作室；12345 等热线转来的，填接件工作室安排的党代表）、"
        "reporter_name、summary、content；outcome 为 on_the_spot（当场答复）时另须填 "
        "spot_answer 和 spot_satisfaction。缺项答 422，fields 逐项说明。"
    ),
    "CaseReporter": (
        "反映人完整信息：与详情页“查看完整信息”所示相同，未脱敏；登记表未填的项为空字符串。"
    ),
    "StepIn": "version 为读取时的版本号，已被他人修改的答 409；省略则按该件当前的状态办理。",
    "StudioFilters": "工作室列表的筛选条件，与“党代表工作室”列表页面相同。",
    "AssignmentPeriodOut": (
        "党代表在该工作室进驻的一段时间（工作室页面的“进驻党代表”和“曾进驻的党代表”）："
        "仍在进驻的 until 为 null；离开日期未记录的（working 为 false）until 也为 null。"
    ),
    "RepresentativeFilters": "党代表列表的筛选条件，与“党代表”列表页面相同。",
    "EventFilters": "活动列表的筛选条件，与“活动安排”页面相同。",
    "EventKind": (
        "活动方式：党代表到工作室开展活动的方式（《工作室管理办法》第八条），"
        "以及工作室每周定期开放（第十条）。"
    ),
    "EventIn": "“新建活动”表单的各项，按该表单的规则校验。",
    "AppointmentFilters": "群众预约列表的筛选条件，与“群众预约”页面相同。",
    "AppointmentBooker": "预约人完整信息：与预约页面“查看完整信息”所示相同，未脱敏。",
    "EventEditIn": (
        "修改后的整个活动，以及读取活动（GET /api/v1/events/{event_id}）时得到的 version，"
        "原样传回。"
    ),
    "PublishIn": "活动开始前不足 7 天发布预告的，须填 late_reason（《工作室管理办法》第十条）。",
    "VisitFilters": "入户走访列表的筛选条件，与“入户走访”页面相同。",
    "VisitIn": "“登记入户走访”表单的各项，按该表单的规则校验。",
    "CorrectIn": (
        "version 为读取时的版本号，已被他人修改的答 409；省略的字段保持原值，"
        "address 留空也保持原地址。"
    ),
    "PlanFilters": "年度计划列表的筛选条件，与“年度计划”页面相同。",
    "ReportFilters": "双月报告列表的筛选条件，与“双月报告”页面相同。",
}
