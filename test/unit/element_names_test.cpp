// Top-level element names for _elements (elements.h).
#include "element_names.h"

#include <gtest/gtest.h>

TEST(ElementsTest, KnowsEveryTopLevelElement) {
    EXPECT_TRUE(fhir::is_resource_element("Patient", "gender"));
    EXPECT_TRUE(fhir::is_resource_element("Patient", "name"));
    EXPECT_TRUE(fhir::is_resource_element("Patient", "id"));
    EXPECT_TRUE(fhir::is_resource_element("Patient", "meta"));
    EXPECT_TRUE(fhir::is_resource_element("Patient", "deceased"));         // deceased[x]
    EXPECT_TRUE(fhir::is_resource_element("Patient", "deceasedBoolean"));  // by its type
    EXPECT_TRUE(fhir::is_resource_element("Observation", "value"));
    EXPECT_TRUE(fhir::is_resource_element("Observation", "valueQuantity"));
    EXPECT_TRUE(fhir::is_resource_element("Observation", "component.code")); // first part checked
    EXPECT_FALSE(fhir::is_resource_element("Patient", "nmae"));
    EXPECT_FALSE(fhir::is_resource_element("Patient", "valueQuantity"));
    EXPECT_FALSE(fhir::is_resource_element("Observation", "valuex"));      // not a type suffix
    EXPECT_FALSE(fhir::is_resource_element("Patient", ""));
    EXPECT_FALSE(fhir::is_resource_element("NotAType", "id"));
}
