import pytest

from taper.domain.organisations import InvalidOdsCode, OrganisationKind, Role, normalise_ods_code


@pytest.mark.parametrize(("typed", "code"), [("a81001", "A81001"), (" FA123 ", "FA123"), ("rx1", "RX1")])
def test_normalise_ods_code_upper_cases_and_trims(typed: str, code: str) -> None:
    assert normalise_ods_code(typed) == code


@pytest.mark.parametrize("typed", ["", "AB", "A8100-1", "ABCDEFGHIJK", "A81 001"])
def test_normalise_ods_code_refuses_malformed(typed: str) -> None:
    with pytest.raises(InvalidOdsCode):
        normalise_ods_code(typed)


def test_every_role_but_admin_belongs_to_one_kind_of_organisation() -> None:
    assert Role.PHARMACIST.organisation_kind is OrganisationKind.PAIN_CLINIC
    assert Role.GP.organisation_kind is OrganisationKind.GP_PRACTICE
    assert Role.COMMUNITY_PHARMACIST.organisation_kind is OrganisationKind.COMMUNITY_PHARMACY
    assert Role.ADMIN.organisation_kind is None
