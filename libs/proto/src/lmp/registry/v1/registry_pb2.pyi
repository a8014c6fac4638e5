import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Person(_message.Message):
    __slots__ = ("person_id", "name")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    name: str
    def __init__(self, person_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Cell(_message.Message):
    __slots__ = ("function", "method", "sub_methods")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SUB_METHODS_FIELD_NUMBER: _ClassVar[int]
    function: str
    method: str
    sub_methods: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, function: _Optional[str] = ..., method: _Optional[str] = ..., sub_methods: _Optional[_Iterable[str]] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class WorkingGroupMember(_message.Message):
    __slots__ = ("person_id", "name", "role")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    name: str
    role: str
    def __init__(self, person_id: _Optional[str] = ..., name: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class RegionalRequirement(_message.Message):
    __slots__ = ("requirement_id", "title", "description")
    REQUIREMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    requirement_id: str
    title: str
    description: str
    def __init__(self, requirement_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class StagePlan(_message.Message):
    __slots__ = ("plan", "stage", "items", "document", "approved_on")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    APPROVED_ON_FIELD_NUMBER: _ClassVar[int]
    plan: str
    stage: int
    items: _containers.RepeatedScalarFieldContainer[str]
    document: str
    approved_on: str
    def __init__(self, plan: _Optional[str] = ..., stage: _Optional[int] = ..., items: _Optional[_Iterable[str]] = ..., document: _Optional[str] = ..., approved_on: _Optional[str] = ...) -> None: ...

class VoterTargetChange(_message.Message):
    __slots__ = ("voter_target", "previous", "reason", "effective_month")
    VOTER_TARGET_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_MONTH_FIELD_NUMBER: _ClassVar[int]
    voter_target: int
    previous: int
    reason: str
    effective_month: str
    def __init__(self, voter_target: _Optional[int] = ..., previous: _Optional[int] = ..., reason: _Optional[str] = ..., effective_month: _Optional[str] = ...) -> None: ...

class City(_message.Message):
    __slots__ = ("city_id", "name", "region", "kind", "population", "voter_target", "working_group", "order_number", "order_date", "priority_directions", "selection_criteria", "regional_requirements", "stage", "version", "working_group_tasks", "stage_plans", "voter_target_history")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POPULATION_FIELD_NUMBER: _ClassVar[int]
    VOTER_TARGET_FIELD_NUMBER: _ClassVar[int]
    WORKING_GROUP_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORDER_DATE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_DIRECTIONS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_CRITERIA_FIELD_NUMBER: _ClassVar[int]
    REGIONAL_REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKING_GROUP_TASKS_FIELD_NUMBER: _ClassVar[int]
    STAGE_PLANS_FIELD_NUMBER: _ClassVar[int]
    VOTER_TARGET_HISTORY_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    name: str
    region: str
    kind: str
    population: int
    voter_target: int
    working_group: _containers.RepeatedCompositeFieldContainer[WorkingGroupMember]
    order_number: str
    order_date: str
    priority_directions: _containers.RepeatedScalarFieldContainer[str]
    selection_criteria: _containers.RepeatedScalarFieldContainer[str]
    regional_requirements: _containers.RepeatedCompositeFieldContainer[RegionalRequirement]
    stage: int
    version: int
    working_group_tasks: _containers.RepeatedScalarFieldContainer[str]
    stage_plans: _containers.RepeatedCompositeFieldContainer[StagePlan]
    voter_target_history: _containers.RepeatedCompositeFieldContainer[VoterTargetChange]
    def __init__(self, city_id: _Optional[str] = ..., name: _Optional[str] = ..., region: _Optional[str] = ..., kind: _Optional[str] = ..., population: _Optional[int] = ..., voter_target: _Optional[int] = ..., working_group: _Optional[_Iterable[_Union[WorkingGroupMember, _Mapping]]] = ..., order_number: _Optional[str] = ..., order_date: _Optional[str] = ..., priority_directions: _Optional[_Iterable[str]] = ..., selection_criteria: _Optional[_Iterable[str]] = ..., regional_requirements: _Optional[_Iterable[_Union[RegionalRequirement, _Mapping]]] = ..., stage: _Optional[int] = ..., version: _Optional[int] = ..., working_group_tasks: _Optional[_Iterable[str]] = ..., stage_plans: _Optional[_Iterable[_Union[StagePlan, _Mapping]]] = ..., voter_target_history: _Optional[_Iterable[_Union[VoterTargetChange, _Mapping]]] = ...) -> None: ...

class RegisterCityRequest(_message.Message):
    __slots__ = ("city_id", "name", "region", "kind", "population", "voter_target")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POPULATION_FIELD_NUMBER: _ClassVar[int]
    VOTER_TARGET_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    name: str
    region: str
    kind: str
    population: int
    voter_target: int
    def __init__(self, city_id: _Optional[str] = ..., name: _Optional[str] = ..., region: _Optional[str] = ..., kind: _Optional[str] = ..., population: _Optional[int] = ..., voter_target: _Optional[int] = ...) -> None: ...

class GetCityRequest(_message.Message):
    __slots__ = ("city_id",)
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    def __init__(self, city_id: _Optional[str] = ...) -> None: ...

class ApproveWorkingGroupRequest(_message.Message):
    __slots__ = ("city_id", "members", "order_number", "order_date", "tasks")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORDER_DATE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    members: _containers.RepeatedCompositeFieldContainer[WorkingGroupMember]
    order_number: str
    order_date: str
    tasks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, city_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[WorkingGroupMember, _Mapping]]] = ..., order_number: _Optional[str] = ..., order_date: _Optional[str] = ..., tasks: _Optional[_Iterable[str]] = ...) -> None: ...

class FixStrategyRequest(_message.Message):
    __slots__ = ("city_id", "priority_directions", "selection_criteria")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_DIRECTIONS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_CRITERIA_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    priority_directions: _containers.RepeatedScalarFieldContainer[str]
    selection_criteria: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, city_id: _Optional[str] = ..., priority_directions: _Optional[_Iterable[str]] = ..., selection_criteria: _Optional[_Iterable[str]] = ...) -> None: ...

class AddRegionalRequirementRequest(_message.Message):
    __slots__ = ("city_id", "title", "description", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    title: str
    description: str
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddRegionalRequirementResponse(_message.Message):
    __slots__ = ("city", "requirement_id")
    CITY_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_ID_FIELD_NUMBER: _ClassVar[int]
    city: City
    requirement_id: str
    def __init__(self, city: _Optional[_Union[City, _Mapping]] = ..., requirement_id: _Optional[str] = ...) -> None: ...

class AdvanceStageRequest(_message.Message):
    __slots__ = ("city_id", "to_stage")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    to_stage: int
    def __init__(self, city_id: _Optional[str] = ..., to_stage: _Optional[int] = ...) -> None: ...

class RecordStagePlanRequest(_message.Message):
    __slots__ = ("city_id", "plan", "items", "document", "approved_on")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    APPROVED_ON_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    plan: str
    items: _containers.RepeatedScalarFieldContainer[str]
    document: str
    approved_on: str
    def __init__(self, city_id: _Optional[str] = ..., plan: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., document: _Optional[str] = ..., approved_on: _Optional[str] = ...) -> None: ...

class ChangeVoterTargetRequest(_message.Message):
    __slots__ = ("city_id", "voter_target", "reason")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_TARGET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    voter_target: int
    reason: str
    def __init__(self, city_id: _Optional[str] = ..., voter_target: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Problem(_message.Message):
    __slots__ = ("problem_id", "city_id", "title", "description", "registered_at", "version", "priority", "practice_ids", "solved", "solved_with_external_resources")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_IDS_FIELD_NUMBER: _ClassVar[int]
    SOLVED_FIELD_NUMBER: _ClassVar[int]
    SOLVED_WITH_EXTERNAL_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    city_id: str
    title: str
    description: str
    registered_at: _timestamp_pb2.Timestamp
    version: int
    priority: str
    practice_ids: _containers.RepeatedScalarFieldContainer[str]
    solved: bool
    solved_with_external_resources: bool
    def __init__(self, problem_id: _Optional[str] = ..., city_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., priority: _Optional[str] = ..., practice_ids: _Optional[_Iterable[str]] = ..., solved: _Optional[bool] = ..., solved_with_external_resources: _Optional[bool] = ...) -> None: ...

class RegisterProblemRequest(_message.Message):
    __slots__ = ("city_id", "title", "description", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    title: str
    description: str
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RegisterProblemResponse(_message.Message):
    __slots__ = ("problem",)
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    problem: Problem
    def __init__(self, problem: _Optional[_Union[Problem, _Mapping]] = ...) -> None: ...

class GetProblemRequest(_message.Message):
    __slots__ = ("problem_id",)
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    def __init__(self, problem_id: _Optional[str] = ...) -> None: ...

class DescribeProblemRequest(_message.Message):
    __slots__ = ("problem_id", "description")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    description: str
    def __init__(self, problem_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SetProblemPriorityRequest(_message.Message):
    __slots__ = ("problem_id", "priority")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    priority: str
    def __init__(self, problem_id: _Optional[str] = ..., priority: _Optional[str] = ...) -> None: ...

class MarkProblemSolvedRequest(_message.Message):
    __slots__ = ("problem_id", "solved_with_external_resources")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    SOLVED_WITH_EXTERNAL_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    solved_with_external_resources: bool
    def __init__(self, problem_id: _Optional[str] = ..., solved_with_external_resources: _Optional[bool] = ...) -> None: ...

class LinkPracticeRequest(_message.Message):
    __slots__ = ("problem_id", "practice_id")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    practice_id: str
    def __init__(self, problem_id: _Optional[str] = ..., practice_id: _Optional[str] = ...) -> None: ...

class Replication(_message.Message):
    __slots__ = ("practice_id", "city_id")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ...) -> None: ...

class Practice(_message.Message):
    __slots__ = ("practice_id", "city_id", "kind", "title", "summary", "authors", "participants", "problem_ids", "requirement_ids", "cells", "lifecycle_step", "status", "status_reason", "passport_version", "approved_passport_version", "rank", "priority_rank", "source_practice_id", "source_city_id", "replications", "registered_at", "modified_at", "version")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STEP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CITY_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    kind: str
    title: str
    summary: str
    authors: _containers.RepeatedCompositeFieldContainer[Person]
    participants: _containers.RepeatedCompositeFieldContainer[Person]
    problem_ids: _containers.RepeatedScalarFieldContainer[str]
    requirement_ids: _containers.RepeatedScalarFieldContainer[str]
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    lifecycle_step: int
    status: str
    status_reason: str
    passport_version: int
    approved_passport_version: int
    rank: int
    priority_rank: int
    source_practice_id: str
    source_city_id: str
    replications: _containers.RepeatedCompositeFieldContainer[Replication]
    registered_at: _timestamp_pb2.Timestamp
    modified_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., authors: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., participants: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., problem_ids: _Optional[_Iterable[str]] = ..., requirement_ids: _Optional[_Iterable[str]] = ..., cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ..., lifecycle_step: _Optional[int] = ..., status: _Optional[str] = ..., status_reason: _Optional[str] = ..., passport_version: _Optional[int] = ..., approved_passport_version: _Optional[int] = ..., rank: _Optional[int] = ..., priority_rank: _Optional[int] = ..., source_practice_id: _Optional[str] = ..., source_city_id: _Optional[str] = ..., replications: _Optional[_Iterable[_Union[Replication, _Mapping]]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class RegisterPracticeRequest(_message.Message):
    __slots__ = ("city_id", "kind", "title", "summary", "authors", "participants", "problem_ids", "requirement_ids", "cells", "lifecycle_step", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STEP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    title: str
    summary: str
    authors: _containers.RepeatedCompositeFieldContainer[Person]
    participants: _containers.RepeatedCompositeFieldContainer[Person]
    problem_ids: _containers.RepeatedScalarFieldContainer[str]
    requirement_ids: _containers.RepeatedScalarFieldContainer[str]
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    lifecycle_step: int
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., authors: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., participants: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., problem_ids: _Optional[_Iterable[str]] = ..., requirement_ids: _Optional[_Iterable[str]] = ..., cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ..., lifecycle_step: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPracticeRequest(_message.Message):
    __slots__ = ("practice_id", "as_of")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, practice_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClassifyPracticeRequest(_message.Message):
    __slots__ = ("practice_id", "cells")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    def __init__(self, practice_id: _Optional[str] = ..., cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ...) -> None: ...

class SetPracticePeopleRequest(_message.Message):
    __slots__ = ("practice_id", "authors", "participants")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    authors: _containers.RepeatedCompositeFieldContainer[Person]
    participants: _containers.RepeatedCompositeFieldContainer[Person]
    def __init__(self, practice_id: _Optional[str] = ..., authors: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., participants: _Optional[_Iterable[_Union[Person, _Mapping]]] = ...) -> None: ...

class MoveLifecycleRequest(_message.Message):
    __slots__ = ("practice_id", "step", "reason")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    step: int
    reason: str
    def __init__(self, practice_id: _Optional[str] = ..., step: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ChangeStatusRequest(_message.Message):
    __slots__ = ("practice_id", "status", "reason")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    status: str
    reason: str
    def __init__(self, practice_id: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Cost(_message.Message):
    __slots__ = ("amount", "currency")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount: str
    currency: str
    def __init__(self, amount: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class Indicator(_message.Message):
    __slots__ = ("name", "unit", "baseline", "target", "actual")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    unit: str
    baseline: str
    target: str
    actual: str
    def __init__(self, name: _Optional[str] = ..., unit: _Optional[str] = ..., baseline: _Optional[str] = ..., target: _Optional[str] = ..., actual: _Optional[str] = ...) -> None: ...

class Effects(_message.Message):
    __slots__ = ("social", "economic", "political")
    SOCIAL_FIELD_NUMBER: _ClassVar[int]
    ECONOMIC_FIELD_NUMBER: _ClassVar[int]
    POLITICAL_FIELD_NUMBER: _ClassVar[int]
    social: str
    economic: str
    political: str
    def __init__(self, social: _Optional[str] = ..., economic: _Optional[str] = ..., political: _Optional[str] = ...) -> None: ...

class SectionContent(_message.Message):
    __slots__ = ("text", "cost", "indicators", "effects")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    EFFECTS_FIELD_NUMBER: _ClassVar[int]
    text: str
    cost: Cost
    indicators: _containers.RepeatedCompositeFieldContainer[Indicator]
    effects: Effects
    def __init__(self, text: _Optional[str] = ..., cost: _Optional[_Union[Cost, _Mapping]] = ..., indicators: _Optional[_Iterable[_Union[Indicator, _Mapping]]] = ..., effects: _Optional[_Union[Effects, _Mapping]] = ...) -> None: ...

class PassportSection(_message.Message):
    __slots__ = ("section", "version", "content", "empty")
    SECTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EMPTY_FIELD_NUMBER: _ClassVar[int]
    section: str
    version: int
    content: SectionContent
    empty: bool
    def __init__(self, section: _Optional[str] = ..., version: _Optional[int] = ..., content: _Optional[_Union[SectionContent, _Mapping]] = ..., empty: _Optional[bool] = ...) -> None: ...

class EditPassportSectionRequest(_message.Message):
    __slots__ = ("practice_id", "section", "content")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    section: str
    content: SectionContent
    def __init__(self, practice_id: _Optional[str] = ..., section: _Optional[str] = ..., content: _Optional[_Union[SectionContent, _Mapping]] = ...) -> None: ...

class ApprovePassportRequest(_message.Message):
    __slots__ = ("practice_id",)
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    def __init__(self, practice_id: _Optional[str] = ...) -> None: ...

class GetPassportRequest(_message.Message):
    __slots__ = ("practice_id",)
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    def __init__(self, practice_id: _Optional[str] = ...) -> None: ...

class Passport(_message.Message):
    __slots__ = ("practice_id", "passport_version", "approved_passport_version", "sections")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    passport_version: int
    approved_passport_version: int
    sections: _containers.RepeatedCompositeFieldContainer[PassportSection]
    def __init__(self, practice_id: _Optional[str] = ..., passport_version: _Optional[int] = ..., approved_passport_version: _Optional[int] = ..., sections: _Optional[_Iterable[_Union[PassportSection, _Mapping]]] = ...) -> None: ...

class SectionVersion(_message.Message):
    __slots__ = ("version", "content", "edited_at", "passport_version")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EDITED_AT_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    content: SectionContent
    edited_at: _timestamp_pb2.Timestamp
    passport_version: int
    def __init__(self, version: _Optional[int] = ..., content: _Optional[_Union[SectionContent, _Mapping]] = ..., edited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., passport_version: _Optional[int] = ...) -> None: ...

class GetSectionHistoryRequest(_message.Message):
    __slots__ = ("practice_id", "section")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    section: str
    def __init__(self, practice_id: _Optional[str] = ..., section: _Optional[str] = ...) -> None: ...

class GetSectionHistoryResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[SectionVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[SectionVersion, _Mapping]]] = ...) -> None: ...

class DiffSectionRequest(_message.Message):
    __slots__ = ("practice_id", "section", "from_version", "to_version")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    section: str
    from_version: int
    to_version: int
    def __init__(self, practice_id: _Optional[str] = ..., section: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ...) -> None: ...

class DiffSectionResponse(_message.Message):
    __slots__ = ("diff",)
    DIFF_FIELD_NUMBER: _ClassVar[int]
    diff: str
    def __init__(self, diff: _Optional[str] = ...) -> None: ...

class AdoptPracticeRequest(_message.Message):
    __slots__ = ("source_practice_id", "city_id", "title", "request_id", "problem_ids")
    SOURCE_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_IDS_FIELD_NUMBER: _ClassVar[int]
    source_practice_id: str
    city_id: str
    title: str
    request_id: str
    problem_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, source_practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., title: _Optional[str] = ..., request_id: _Optional[str] = ..., problem_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLineageRequest(_message.Message):
    __slots__ = ("practice_id",)
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    def __init__(self, practice_id: _Optional[str] = ...) -> None: ...

class LineageNode(_message.Message):
    __slots__ = ("practice_id", "city_id", "title", "source_practice_id", "depth")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    title: str
    source_practice_id: str
    depth: int
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., title: _Optional[str] = ..., source_practice_id: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class GetLineageResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[LineageNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[LineageNode, _Mapping]]] = ...) -> None: ...

class Publication(_message.Message):
    __slots__ = ("text", "published_at")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    text: str
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Photo(_message.Message):
    __slots__ = ("uri", "sha256")
    URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    uri: str
    sha256: str
    def __init__(self, uri: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class ActivityReport(_message.Message):
    __slots__ = ("attendees", "photos")
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    attendees: _containers.RepeatedCompositeFieldContainer[Person]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, attendees: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("activity_id", "city_id", "kind", "title", "held_on", "speakers", "joint_action", "branding_used", "announcement", "press_release", "report", "version", "participant_categories")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    JOINT_ACTION_FIELD_NUMBER: _ClassVar[int]
    BRANDING_USED_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    PRESS_RELEASE_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    city_id: str
    kind: str
    title: str
    held_on: str
    speakers: _containers.RepeatedCompositeFieldContainer[Person]
    joint_action: bool
    branding_used: bool
    announcement: Publication
    press_release: Publication
    report: ActivityReport
    version: int
    participant_categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, activity_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., held_on: _Optional[str] = ..., speakers: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., joint_action: _Optional[bool] = ..., branding_used: _Optional[bool] = ..., announcement: _Optional[_Union[Publication, _Mapping]] = ..., press_release: _Optional[_Union[Publication, _Mapping]] = ..., report: _Optional[_Union[ActivityReport, _Mapping]] = ..., version: _Optional[int] = ..., participant_categories: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterActivityRequest(_message.Message):
    __slots__ = ("city_id", "kind", "title", "held_on", "speakers", "joint_action", "branding_used", "request_id", "participant_categories")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    JOINT_ACTION_FIELD_NUMBER: _ClassVar[int]
    BRANDING_USED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    title: str
    held_on: str
    speakers: _containers.RepeatedCompositeFieldContainer[Person]
    joint_action: bool
    branding_used: bool
    request_id: str
    participant_categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., held_on: _Optional[str] = ..., speakers: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., joint_action: _Optional[bool] = ..., branding_used: _Optional[bool] = ..., request_id: _Optional[str] = ..., participant_categories: _Optional[_Iterable[str]] = ...) -> None: ...

class GetActivityRequest(_message.Message):
    __slots__ = ("activity_id",)
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    def __init__(self, activity_id: _Optional[str] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("activity_id", "text", "published_at")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    text: str
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, activity_id: _Optional[str] = ..., text: _Optional[str] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FileActivityReportRequest(_message.Message):
    __slots__ = ("activity_id", "attendees", "photos")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    attendees: _containers.RepeatedCompositeFieldContainer[Person]
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, activity_id: _Optional[str] = ..., attendees: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ...) -> None: ...

class ImprovementFact(_message.Message):
    __slots__ = ("fact_id", "city_id", "month", "title", "description", "evidence", "verdict", "reason", "version")
    FACT_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    fact_id: str
    city_id: str
    month: str
    title: str
    description: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    verdict: str
    reason: str
    version: int
    def __init__(self, fact_id: _Optional[str] = ..., city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ..., verdict: _Optional[str] = ..., reason: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class RecordImprovementFactRequest(_message.Message):
    __slots__ = ("city_id", "month", "title", "description", "evidence", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    title: str
    description: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetImprovementFactRequest(_message.Message):
    __slots__ = ("fact_id",)
    FACT_ID_FIELD_NUMBER: _ClassVar[int]
    fact_id: str
    def __init__(self, fact_id: _Optional[str] = ...) -> None: ...

class JudgeImprovementFactRequest(_message.Message):
    __slots__ = ("fact_id", "recognized", "reason")
    FACT_ID_FIELD_NUMBER: _ClassVar[int]
    RECOGNIZED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    fact_id: str
    recognized: bool
    reason: str
    def __init__(self, fact_id: _Optional[str] = ..., recognized: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class ExternalResourceCase(_message.Message):
    __slots__ = ("case_id", "city_id", "month", "title", "source_kind", "amount", "currency", "partner", "problem_id", "version")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    city_id: str
    month: str
    title: str
    source_kind: str
    amount: str
    currency: str
    partner: str
    problem_id: str
    version: int
    def __init__(self, case_id: _Optional[str] = ..., city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., source_kind: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., partner: _Optional[str] = ..., problem_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class RecordExternalResourceCaseRequest(_message.Message):
    __slots__ = ("city_id", "month", "title", "source_kind", "amount", "currency", "partner", "problem_id", "request_id")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    title: str
    source_kind: str
    amount: str
    currency: str
    partner: str
    problem_id: str
    request_id: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., source_kind: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., partner: _Optional[str] = ..., problem_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetExternalResourceCaseRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class ListProblemsRequest(_message.Message):
    __slots__ = ("city_id", "priority", "unsolved_only", "text", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    UNSOLVED_ONLY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    priority: str
    unsolved_only: bool
    text: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., priority: _Optional[str] = ..., unsolved_only: _Optional[bool] = ..., text: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ProblemEntry(_message.Message):
    __slots__ = ("problem_id", "city_id", "title", "priority", "solved", "practice_ids", "registered_at")
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SOLVED_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_IDS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    problem_id: str
    city_id: str
    title: str
    priority: str
    solved: bool
    practice_ids: _containers.RepeatedScalarFieldContainer[str]
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, problem_id: _Optional[str] = ..., city_id: _Optional[str] = ..., title: _Optional[str] = ..., priority: _Optional[str] = ..., solved: _Optional[bool] = ..., practice_ids: _Optional[_Iterable[str]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListProblemsResponse(_message.Message):
    __slots__ = ("problems", "next_page_token")
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[ProblemEntry]
    next_page_token: str
    def __init__(self, problems: _Optional[_Iterable[_Union[ProblemEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListActivitiesRequest(_message.Message):
    __slots__ = ("city_id", "month", "kind", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    kind: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., kind: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ActivityEntry(_message.Message):
    __slots__ = ("activity_id", "city_id", "kind", "title", "held_on", "participant_categories", "announced", "press_released", "reported")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCED_FIELD_NUMBER: _ClassVar[int]
    PRESS_RELEASED_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    city_id: str
    kind: str
    title: str
    held_on: str
    participant_categories: _containers.RepeatedScalarFieldContainer[str]
    announced: bool
    press_released: bool
    reported: bool
    def __init__(self, activity_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., held_on: _Optional[str] = ..., participant_categories: _Optional[_Iterable[str]] = ..., announced: _Optional[bool] = ..., press_released: _Optional[bool] = ..., reported: _Optional[bool] = ...) -> None: ...

class ListActivitiesResponse(_message.Message):
    __slots__ = ("activities", "next_page_token")
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activities: _containers.RepeatedCompositeFieldContainer[ActivityEntry]
    next_page_token: str
    def __init__(self, activities: _Optional[_Iterable[_Union[ActivityEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPracticesRequest(_message.Message):
    __slots__ = ("city_id", "kind", "status", "lifecycle_step", "cell", "text", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STEP_FIELD_NUMBER: _ClassVar[int]
    CELL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    kind: str
    status: str
    lifecycle_step: int
    cell: str
    text: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., lifecycle_step: _Optional[int] = ..., cell: _Optional[str] = ..., text: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class PracticeEntry(_message.Message):
    __slots__ = ("practice_id", "city_id", "kind", "title", "status", "status_reason", "lifecycle_step", "cells", "problem_ids", "rank", "priority_rank", "approved_passport_version", "plan_version", "source_practice_id", "registered_at")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STEP_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_IDS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_RANK_FIELD_NUMBER: _ClassVar[int]
    APPROVED_PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    kind: str
    title: str
    status: str
    status_reason: str
    lifecycle_step: int
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    problem_ids: _containers.RepeatedScalarFieldContainer[str]
    rank: int
    priority_rank: int
    approved_passport_version: int
    plan_version: int
    source_practice_id: str
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[str] = ..., status_reason: _Optional[str] = ..., lifecycle_step: _Optional[int] = ..., cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ..., problem_ids: _Optional[_Iterable[str]] = ..., rank: _Optional[int] = ..., priority_rank: _Optional[int] = ..., approved_passport_version: _Optional[int] = ..., plan_version: _Optional[int] = ..., source_practice_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPracticesResponse(_message.Message):
    __slots__ = ("practices", "next_page_token")
    PRACTICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    practices: _containers.RepeatedCompositeFieldContainer[PracticeEntry]
    next_page_token: str
    def __init__(self, practices: _Optional[_Iterable[_Union[PracticeEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListImprovementFactsRequest(_message.Message):
    __slots__ = ("city_id", "month", "verdict", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    verdict: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., verdict: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ImprovementFactEntry(_message.Message):
    __slots__ = ("fact_id", "city_id", "month", "title", "verdict", "reason", "evidence_count", "recorded_at")
    FACT_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    fact_id: str
    city_id: str
    month: str
    title: str
    verdict: str
    reason: str
    evidence_count: int
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, fact_id: _Optional[str] = ..., city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., verdict: _Optional[str] = ..., reason: _Optional[str] = ..., evidence_count: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListImprovementFactsResponse(_message.Message):
    __slots__ = ("facts", "next_page_token")
    FACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    facts: _containers.RepeatedCompositeFieldContainer[ImprovementFactEntry]
    next_page_token: str
    def __init__(self, facts: _Optional[_Iterable[_Union[ImprovementFactEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListExternalResourceCasesRequest(_message.Message):
    __slots__ = ("city_id", "month", "problem_id", "source_kind", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    problem_id: str
    source_kind: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., problem_id: _Optional[str] = ..., source_kind: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ExternalResourceCaseEntry(_message.Message):
    __slots__ = ("case_id", "city_id", "month", "title", "source_kind", "amount", "currency", "partner", "problem_id", "recorded_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    city_id: str
    month: str
    title: str
    source_kind: str
    amount: str
    currency: str
    partner: str
    problem_id: str
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., city_id: _Optional[str] = ..., month: _Optional[str] = ..., title: _Optional[str] = ..., source_kind: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., partner: _Optional[str] = ..., problem_id: _Optional[str] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListExternalResourceCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[ExternalResourceCaseEntry]
    next_page_token: str
    def __init__(self, cases: _Optional[_Iterable[_Union[ExternalResourceCaseEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListImplementationPlansRequest(_message.Message):
    __slots__ = ("city_id", "practice_id", "status", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    practice_id: str
    status: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., practice_id: _Optional[str] = ..., status: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ImplementationPlanEntry(_message.Message):
    __slots__ = ("practice_id", "city_id", "title", "status", "plan_version", "approved_by", "milestones", "milestones_done", "milestones_in_progress", "milestones_missed", "next_due_date", "resource_sources", "reports", "last_report_month", "last_decision", "planned_at", "act_number", "act_date", "regulation_changes", "regulation_changes_adopted", "corrections", "resident_participants", "involvement_procedure")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_DONE_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_MISSED_FIELD_NUMBER: _ClassVar[int]
    NEXT_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_MONTH_FIELD_NUMBER: _ClassVar[int]
    LAST_DECISION_FIELD_NUMBER: _ClassVar[int]
    PLANNED_AT_FIELD_NUMBER: _ClassVar[int]
    ACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACT_DATE_FIELD_NUMBER: _ClassVar[int]
    REGULATION_CHANGES_FIELD_NUMBER: _ClassVar[int]
    REGULATION_CHANGES_ADOPTED_FIELD_NUMBER: _ClassVar[int]
    CORRECTIONS_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    INVOLVEMENT_PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    title: str
    status: str
    plan_version: int
    approved_by: str
    milestones: int
    milestones_done: int
    milestones_in_progress: int
    milestones_missed: int
    next_due_date: str
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    reports: int
    last_report_month: str
    last_decision: str
    planned_at: _timestamp_pb2.Timestamp
    act_number: str
    act_date: str
    regulation_changes: int
    regulation_changes_adopted: int
    corrections: int
    resident_participants: int
    involvement_procedure: bool
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[str] = ..., plan_version: _Optional[int] = ..., approved_by: _Optional[str] = ..., milestones: _Optional[int] = ..., milestones_done: _Optional[int] = ..., milestones_in_progress: _Optional[int] = ..., milestones_missed: _Optional[int] = ..., next_due_date: _Optional[str] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ..., reports: _Optional[int] = ..., last_report_month: _Optional[str] = ..., last_decision: _Optional[str] = ..., planned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., act_number: _Optional[str] = ..., act_date: _Optional[str] = ..., regulation_changes: _Optional[int] = ..., regulation_changes_adopted: _Optional[int] = ..., corrections: _Optional[int] = ..., resident_participants: _Optional[int] = ..., involvement_procedure: _Optional[bool] = ...) -> None: ...

class ListImplementationPlansResponse(_message.Message):
    __slots__ = ("plans", "next_page_token")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[ImplementationPlanEntry]
    next_page_token: str
    def __init__(self, plans: _Optional[_Iterable[_Union[ImplementationPlanEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListProgressReportsRequest(_message.Message):
    __slots__ = ("city_id", "practice_id", "month", "page")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    practice_id: str
    month: str
    page: PageRequest
    def __init__(self, city_id: _Optional[str] = ..., practice_id: _Optional[str] = ..., month: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class ProgressReportEntry(_message.Message):
    __slots__ = ("practice_id", "city_id", "month", "indicators", "note", "reported_at")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    month: str
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorProgress]
    note: str
    reported_at: _timestamp_pb2.Timestamp
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., month: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[IndicatorProgress, _Mapping]]] = ..., note: _Optional[str] = ..., reported_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListProgressReportsResponse(_message.Message):
    __slots__ = ("reports", "next_page_token")
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[ProgressReportEntry]
    next_page_token: str
    def __init__(self, reports: _Optional[_Iterable[_Union[ProgressReportEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchLibraryRequest(_message.Message):
    __slots__ = ("text", "function", "method", "cell", "kind", "status", "city_id", "problem_id", "page")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CELL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    text: str
    function: str
    method: str
    cell: str
    kind: str
    status: str
    city_id: str
    problem_id: str
    page: PageRequest
    def __init__(self, text: _Optional[str] = ..., function: _Optional[str] = ..., method: _Optional[str] = ..., cell: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., city_id: _Optional[str] = ..., problem_id: _Optional[str] = ..., page: _Optional[_Union[PageRequest, _Mapping]] = ...) -> None: ...

class LibraryEntry(_message.Message):
    __slots__ = ("practice_id", "city_id", "kind", "title", "status", "cells", "problem_ids", "published", "approved_passport_version", "replications", "updated_at")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_IDS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    APPROVED_PASSPORT_VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    kind: str
    title: str
    status: str
    cells: _containers.RepeatedCompositeFieldContainer[Cell]
    problem_ids: _containers.RepeatedScalarFieldContainer[str]
    published: bool
    approved_passport_version: int
    replications: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[str] = ..., cells: _Optional[_Iterable[_Union[Cell, _Mapping]]] = ..., problem_ids: _Optional[_Iterable[str]] = ..., published: _Optional[bool] = ..., approved_passport_version: _Optional[int] = ..., replications: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SearchLibraryResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LibraryEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LibraryEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetClassifierMatrixRequest(_message.Message):
    __slots__ = ("city_id",)
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    def __init__(self, city_id: _Optional[str] = ...) -> None: ...

class MatrixCell(_message.Message):
    __slots__ = ("function", "method", "practices")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PRACTICES_FIELD_NUMBER: _ClassVar[int]
    function: str
    method: str
    practices: int
    def __init__(self, function: _Optional[str] = ..., method: _Optional[str] = ..., practices: _Optional[int] = ...) -> None: ...

class ClassifierMatrix(_message.Message):
    __slots__ = ("city_id", "cells", "total")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    cells: _containers.RepeatedCompositeFieldContainer[MatrixCell]
    total: int
    def __init__(self, city_id: _Optional[str] = ..., cells: _Optional[_Iterable[_Union[MatrixCell, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetCityDashboardRequest(_message.Message):
    __slots__ = ("city_id", "month")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class StatusCount(_message.Message):
    __slots__ = ("status", "practices")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRACTICES_FIELD_NUMBER: _ClassVar[int]
    status: str
    practices: int
    def __init__(self, status: _Optional[str] = ..., practices: _Optional[int] = ...) -> None: ...

class ActivityGap(_message.Message):
    __slots__ = ("activity_id", "title", "held_on", "missing", "kind", "to_do")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    HELD_ON_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TO_DO_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    title: str
    held_on: str
    missing: _containers.RepeatedScalarFieldContainer[str]
    kind: str
    to_do: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, activity_id: _Optional[str] = ..., title: _Optional[str] = ..., held_on: _Optional[str] = ..., missing: _Optional[_Iterable[str]] = ..., kind: _Optional[str] = ..., to_do: _Optional[_Iterable[str]] = ...) -> None: ...

class StageGap(_message.Message):
    __slots__ = ("stage", "name", "missing")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    stage: int
    name: str
    missing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stage: _Optional[int] = ..., name: _Optional[str] = ..., missing: _Optional[_Iterable[str]] = ...) -> None: ...

class CityDashboard(_message.Message):
    __slots__ = ("city_id", "month", "statuses", "packaged_practices", "activity_gaps", "stage", "stage_gaps")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PACKAGED_PRACTICES_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_GAPS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_GAPS_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    month: str
    statuses: _containers.RepeatedCompositeFieldContainer[StatusCount]
    packaged_practices: int
    activity_gaps: _containers.RepeatedCompositeFieldContainer[ActivityGap]
    stage: int
    stage_gaps: _containers.RepeatedCompositeFieldContainer[StageGap]
    def __init__(self, city_id: _Optional[str] = ..., month: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[StatusCount, _Mapping]]] = ..., packaged_practices: _Optional[int] = ..., activity_gaps: _Optional[_Iterable[_Union[ActivityGap, _Mapping]]] = ..., stage: _Optional[int] = ..., stage_gaps: _Optional[_Iterable[_Union[StageGap, _Mapping]]] = ...) -> None: ...

class Milestone(_message.Message):
    __slots__ = ("number", "title", "owner", "due_date", "status")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    number: int
    title: str
    owner: Person
    due_date: str
    status: str
    def __init__(self, number: _Optional[int] = ..., title: _Optional[str] = ..., owner: _Optional[_Union[Person, _Mapping]] = ..., due_date: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ResourceSource(_message.Message):
    __slots__ = ("kind", "amount", "currency")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    amount: str
    currency: str
    def __init__(self, kind: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class IndicatorProgress(_message.Message):
    __slots__ = ("indicator", "unit", "planned", "actual")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    indicator: str
    unit: str
    planned: str
    actual: str
    def __init__(self, indicator: _Optional[str] = ..., unit: _Optional[str] = ..., planned: _Optional[str] = ..., actual: _Optional[str] = ...) -> None: ...

class ProgressReport(_message.Message):
    __slots__ = ("month", "indicators", "note")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    month: str
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorProgress]
    note: str
    def __init__(self, month: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[IndicatorProgress, _Mapping]]] = ..., note: _Optional[str] = ...) -> None: ...

class PracticeDecision(_message.Message):
    __slots__ = ("decision", "reason", "resource_sources", "decided_by")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    decision: str
    reason: str
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    decided_by: str
    def __init__(self, decision: _Optional[str] = ..., reason: _Optional[str] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ..., decided_by: _Optional[str] = ...) -> None: ...

class ImplementationPlan(_message.Message):
    __slots__ = ("practice_id", "city_id", "status", "plan_version", "approved_by", "milestones", "resource_sources", "regulation_proposals", "reports", "decisions", "act", "regulation_changes", "corrections", "resident_participants", "resident_list_version", "involvement_procedure")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REGULATION_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    ACT_FIELD_NUMBER: _ClassVar[int]
    REGULATION_CHANGES_FIELD_NUMBER: _ClassVar[int]
    CORRECTIONS_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_LIST_VERSION_FIELD_NUMBER: _ClassVar[int]
    INVOLVEMENT_PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    city_id: str
    status: str
    plan_version: int
    approved_by: str
    milestones: _containers.RepeatedCompositeFieldContainer[Milestone]
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    regulation_proposals: _containers.RepeatedScalarFieldContainer[str]
    reports: _containers.RepeatedCompositeFieldContainer[ProgressReport]
    decisions: _containers.RepeatedCompositeFieldContainer[PracticeDecision]
    act: NormativeAct
    regulation_changes: _containers.RepeatedCompositeFieldContainer[RegulationChange]
    corrections: _containers.RepeatedCompositeFieldContainer[PlanCorrection]
    resident_participants: _containers.RepeatedCompositeFieldContainer[Person]
    resident_list_version: int
    involvement_procedure: InvolvementProcedure
    def __init__(self, practice_id: _Optional[str] = ..., city_id: _Optional[str] = ..., status: _Optional[str] = ..., plan_version: _Optional[int] = ..., approved_by: _Optional[str] = ..., milestones: _Optional[_Iterable[_Union[Milestone, _Mapping]]] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ..., regulation_proposals: _Optional[_Iterable[str]] = ..., reports: _Optional[_Iterable[_Union[ProgressReport, _Mapping]]] = ..., decisions: _Optional[_Iterable[_Union[PracticeDecision, _Mapping]]] = ..., act: _Optional[_Union[NormativeAct, _Mapping]] = ..., regulation_changes: _Optional[_Iterable[_Union[RegulationChange, _Mapping]]] = ..., corrections: _Optional[_Iterable[_Union[PlanCorrection, _Mapping]]] = ..., resident_participants: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., resident_list_version: _Optional[int] = ..., involvement_procedure: _Optional[_Union[InvolvementProcedure, _Mapping]] = ...) -> None: ...

class NormativeAct(_message.Message):
    __slots__ = ("number", "date", "title", "plan_version", "fixed_by")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIXED_BY_FIELD_NUMBER: _ClassVar[int]
    number: str
    date: str
    title: str
    plan_version: int
    fixed_by: str
    def __init__(self, number: _Optional[str] = ..., date: _Optional[str] = ..., title: _Optional[str] = ..., plan_version: _Optional[int] = ..., fixed_by: _Optional[str] = ...) -> None: ...

class RegulationChange(_message.Message):
    __slots__ = ("number", "proposal", "status", "note")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    number: int
    proposal: str
    status: str
    note: str
    def __init__(self, number: _Optional[int] = ..., proposal: _Optional[str] = ..., status: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class PlanCorrection(_message.Message):
    __slots__ = ("plan_version", "reason", "corrected_by")
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_BY_FIELD_NUMBER: _ClassVar[int]
    plan_version: int
    reason: str
    corrected_by: str
    def __init__(self, plan_version: _Optional[int] = ..., reason: _Optional[str] = ..., corrected_by: _Optional[str] = ...) -> None: ...

class InvolvementProcedure(_message.Message):
    __slots__ = ("text", "version", "set_by")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    text: str
    version: int
    set_by: str
    def __init__(self, text: _Optional[str] = ..., version: _Optional[int] = ..., set_by: _Optional[str] = ...) -> None: ...

class FixPlanByActRequest(_message.Message):
    __slots__ = ("practice_id", "number", "date", "title")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    number: str
    date: str
    title: str
    def __init__(self, practice_id: _Optional[str] = ..., number: _Optional[str] = ..., date: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class SetRegulationChangeStatusRequest(_message.Message):
    __slots__ = ("practice_id", "number", "status", "note")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    number: int
    status: str
    note: str
    def __init__(self, practice_id: _Optional[str] = ..., number: _Optional[int] = ..., status: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CorrectImplementationPlanRequest(_message.Message):
    __slots__ = ("practice_id", "milestones", "resource_sources", "reason")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    milestones: _containers.RepeatedCompositeFieldContainer[Milestone]
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    reason: str
    def __init__(self, practice_id: _Optional[str] = ..., milestones: _Optional[_Iterable[_Union[Milestone, _Mapping]]] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetResidentParticipantsRequest(_message.Message):
    __slots__ = ("practice_id", "residents")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENTS_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    residents: _containers.RepeatedCompositeFieldContainer[Person]
    def __init__(self, practice_id: _Optional[str] = ..., residents: _Optional[_Iterable[_Union[Person, _Mapping]]] = ...) -> None: ...

class SetInvolvementProcedureRequest(_message.Message):
    __slots__ = ("practice_id", "text")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    text: str
    def __init__(self, practice_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class CharityEventStandard(_message.Message):
    __slots__ = ("city_id", "title", "text", "act_number", "act_date", "piloted_activity_ids", "version", "adopted_by")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACT_DATE_FIELD_NUMBER: _ClassVar[int]
    PILOTED_ACTIVITY_IDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ADOPTED_BY_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    title: str
    text: str
    act_number: str
    act_date: str
    piloted_activity_ids: _containers.RepeatedScalarFieldContainer[str]
    version: int
    adopted_by: str
    def __init__(self, city_id: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., act_number: _Optional[str] = ..., act_date: _Optional[str] = ..., piloted_activity_ids: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., adopted_by: _Optional[str] = ...) -> None: ...

class AdoptCharityEventStandardRequest(_message.Message):
    __slots__ = ("city_id", "title", "text", "act_number", "act_date", "piloted_activity_ids")
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACT_DATE_FIELD_NUMBER: _ClassVar[int]
    PILOTED_ACTIVITY_IDS_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    title: str
    text: str
    act_number: str
    act_date: str
    piloted_activity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, city_id: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., act_number: _Optional[str] = ..., act_date: _Optional[str] = ..., piloted_activity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCharityEventStandardRequest(_message.Message):
    __slots__ = ("city_id",)
    CITY_ID_FIELD_NUMBER: _ClassVar[int]
    city_id: str
    def __init__(self, city_id: _Optional[str] = ...) -> None: ...

class SetImplementationPlanRequest(_message.Message):
    __slots__ = ("practice_id", "milestones", "resource_sources", "regulation_proposals")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    REGULATION_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    milestones: _containers.RepeatedCompositeFieldContainer[Milestone]
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    regulation_proposals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, practice_id: _Optional[str] = ..., milestones: _Optional[_Iterable[_Union[Milestone, _Mapping]]] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ..., regulation_proposals: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateMilestoneRequest(_message.Message):
    __slots__ = ("practice_id", "number", "status", "due_date")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    number: int
    status: str
    due_date: str
    def __init__(self, practice_id: _Optional[str] = ..., number: _Optional[int] = ..., status: _Optional[str] = ..., due_date: _Optional[str] = ...) -> None: ...

class FileProgressReportRequest(_message.Message):
    __slots__ = ("practice_id", "month", "indicators", "note")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    month: str
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorProgress]
    note: str
    def __init__(self, practice_id: _Optional[str] = ..., month: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[IndicatorProgress, _Mapping]]] = ..., note: _Optional[str] = ...) -> None: ...

class DecideOnPracticeRequest(_message.Message):
    __slots__ = ("practice_id", "decision", "reason", "resource_sources")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    decision: str
    reason: str
    resource_sources: _containers.RepeatedCompositeFieldContainer[ResourceSource]
    def __init__(self, practice_id: _Optional[str] = ..., decision: _Optional[str] = ..., reason: _Optional[str] = ..., resource_sources: _Optional[_Iterable[_Union[ResourceSource, _Mapping]]] = ...) -> None: ...

class GetImplementationPlanRequest(_message.Message):
    __slots__ = ("practice_id",)
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    def __init__(self, practice_id: _Optional[str] = ...) -> None: ...
