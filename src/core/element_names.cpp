// element_names.cpp: looking up the generated top-level element names.
#include "element_names.h"

#include <cctype>

namespace fhir {

bool is_resource_element(std::string_view type, std::string_view element) {
    element = element.substr(0, element.find('.'));
    if (element.empty())
        return false;
    for (size_t i = 0; i < r4::kResourceElementsCount; i++) {
        if (type != r4::kResourceElements[i].type)
            continue;
        std::string_view names = r4::kResourceElements[i].names;
        while (!names.empty()) {
            size_t space = names.find(' ');
            std::string_view name = names.substr(0, space);
            names = space == std::string_view::npos ? std::string_view() : names.substr(space + 1);
            if (name == element)
                return true;
            if (name.size() > 3 && name.substr(name.size() - 3) == "[x]") {
                std::string_view base = name.substr(0, name.size() - 3);
                if (element == base || (element.size() > base.size() && element.substr(0, base.size()) == base &&
                                        std::isupper(static_cast<unsigned char>(element[base.size()]))))
                    return true;
            }
        }
        return false;
    }
    return false;
}

} // namespace fhir
